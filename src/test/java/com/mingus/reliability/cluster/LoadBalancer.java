package com.mingus.reliability.cluster;

import com.mingus.reliability.testsupport.Await;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;

/**
 * What an operator puts in front of a cluster's HTTP ports: a balancer on loopback that sends each request
 * to the next node in turn, and to the one after when a node refuses the connection (it is dead or not yet
 * listening). No health checks and no retry of a request a node took: a node that dies mid-request leaves
 * that request answered 502, as behind a real balancer, and the caller (Plaid, for a webhook) sends it
 * again.
 */
final class LoadBalancer implements AutoCloseable {
  private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "transfer-encoding", "host",
      "content-length");
  private final Vertx vertx = Vertx.vertx();
  private final HttpClient client = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(1_000)
      .setKeepAlive(false));
  private final List<IntSupplier> backends;
  private final AtomicInteger next = new AtomicInteger();
  private final HttpServer server;

  /** {@code backends}: each node's HTTP port, asked at every request. */
  LoadBalancer(List<IntSupplier> backends) {
    this.backends = backends;
    this.server = Await.result(vertx.createHttpServer().requestHandler(this::forward).listen(0, "127.0.0.1"));
  }

  int port() {
    return server.actualPort();
  }

  private void forward(HttpServerRequest inbound) {
    inbound.body().onSuccess(body -> send(inbound, body, Math.floorMod(next.getAndIncrement(), backends.size()),
            backends.size())
        .onSuccess(response -> response.body().onComplete(read -> {
          if (read.failed()) {
            inbound.response().setStatusCode(502).end();
            return;
          }
          inbound.response().setStatusCode(response.statusCode());
          response.headers().forEach((name, value) -> {
            if (!HOP_BY_HOP.contains(name.toLowerCase())) {
              inbound.response().headers().add(name, value);
            }
          });
          inbound.response().end(read.result());
        }))
        .onFailure(failure -> inbound.response().setStatusCode(502).end()));
  }

  private Future<HttpClientResponse> send(HttpServerRequest inbound, Buffer body, int index, int triesLeft) {
    RequestOptions options = new RequestOptions().setMethod(inbound.method()).setHost("127.0.0.1")
        .setPort(backends.get(index).getAsInt()).setURI(inbound.uri()).setTimeout(60_000);
    inbound.headers().forEach((name, value) -> {
      if (!HOP_BY_HOP.contains(name.toLowerCase())) {
        options.addHeader(name, value);
      }
    });
    // only a refused connection moves on: once a node has the request, its fate is that node's
    return client.request(options)
        .recover(refused -> triesLeft > 1 ? Future.failedFuture(new Refused())
            : Future.failedFuture(refused))
        .compose(request -> request.send(body))
        .recover(failure -> failure instanceof Refused
            ? send(inbound, body, (index + 1) % backends.size(), triesLeft - 1) : Future.failedFuture(failure));
  }

  /** A node that did not take the connection. */
  private static final class Refused extends RuntimeException {
    Refused() {
      super(null, null, false, false);
    }
  }

  @Override
  public void close() {
    Await.result(vertx.close());
  }
}
