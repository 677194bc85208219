package com.mingus.reliability.bench;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ceiling the sandbox is compared with: one Vert.x event loop that reads each request body and
 * answers a fixed response (a real sandbox answer captured to a file), with no routing, parsing or state.
 *
 * <p>Arguments: port response-file.
 */
public final class BareJsonServer {
  private static final Logger log = LoggerFactory.getLogger(BareJsonServer.class);

  private BareJsonServer() {}

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    Buffer answer = Buffer.buffer(Files.readAllBytes(Path.of(args[1])));
    Vertx vertx = Vertx.vertx();
    vertx.createHttpServer().requestHandler(request -> request.body().onSuccess(body ->
        request.response().putHeader("Content-Type", "application/json").end(answer)))
        .listen(port, "127.0.0.1")
        .toCompletionStage().toCompletableFuture().get();
    log.info("Bare JSON server on port {} answering {} bytes", port, answer.length());
  }
}
