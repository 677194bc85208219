package com.mingus.reliability.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.Http;
import com.mingus.reliability.testsupport.TestApp;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class GracefulShutdownTest {

  @Test
  void shutdownLetsAnInFlightRequestFinishThenRefusesNewConnections() throws Exception {
    Application app = TestApp.start(GracefulShutdownTest.class, Map.of("SHUTDOWN_TIMEOUT_MS", "8000"));
    int port = app.httpPort();
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(15_000);
      OutputStream out = socket.getOutputStream();
      // A request whose body is still arriving when shutdown begins: it is in flight.
      out.write(("POST /api/reliability/unknown HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
          + "Content-Length: 10\r\n\r\n{\"a\":").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      Await.until(() -> activeRequests(port) >= 1, Duration.ofSeconds(10), "the server has begun the request");

      CompletableFuture<Void> closing = CompletableFuture.runAsync(app::close);
      Await.holds(() -> !closing.isDone(), Duration.ofMillis(700), "shutdown waits for the request in flight");

      out.write("\"bcd\"}".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String response = readResponse(socket.getInputStream());
      assertThat(response).startsWith("HTTP/1.1 404").contains("\"success\":false");

      closing.get(20, TimeUnit.SECONDS);
    }
    assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).isInstanceOf(ConnectException.class);
  }

  /** The requests the server has begun and not yet answered, from its own /metrics. */
  private static double activeRequests(int port) {
    Http.Response metrics = Http.get(port, "/metrics");
    return metrics.body().lines().filter(line -> line.startsWith("vertx_http_server_active_requests"))
        .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1))).sum();
  }

  private static String readResponse(InputStream in) throws IOException {
    StringBuilder text = new StringBuilder();
    byte[] buffer = new byte[4096];
    int n;
    while ((n = in.read(buffer)) > 0) {
      text.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
      int headerEnd = text.indexOf("\r\n\r\n");
      if (headerEnd > 0) {
        String headers = text.substring(0, headerEnd).toLowerCase();
        int at = headers.indexOf("content-length:");
        if (at >= 0) {
          int length = Integer.parseInt(headers.substring(at + 15).split("\r\n")[0].trim());
          if (text.length() >= headerEnd + 4 + length) {
            break;
          }
        }
      }
    }
    return text.toString();
  }
}
