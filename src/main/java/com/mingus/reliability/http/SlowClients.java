package com.mingus.reliability.http;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import java.util.HashMap;
import java.util.Map;

/**
 * Closes connections that hold a slot without completing a request. The server's idle timeout never fires
 * for a client that sends one header byte every few seconds (slowloris) or dribbles its body, so: a
 * connection must complete a request's headers within {@code header_timeout_ms} of opening or of its
 * previous answer (which makes it the keep-alive timeout too), and a request's body must be complete within
 * {@code body_timeout_ms} of its headers. A connection upgraded to a WebSocket is left to the feed's own
 * authentication timeout and heartbeat. Cleartext HTTP/2 ({@code http.h2c}) is off by default: with it on, Vert.x
 * makes the connection only once the first request's headers are complete, out of this guard's sight. One instance per verticle instance: everything runs on its event loop.
 */
final class SlowClients {
  private final Vertx vertx;
  private final long headerTimeoutMs;
  private final long bodyTimeoutMs;
  private final Map<HttpConnection, Watch> watched = new HashMap<>();
  private long closedSlow;

  SlowClients(Vertx vertx, long headerTimeoutMs, long bodyTimeoutMs) {
    this.vertx = vertx;
    this.headerTimeoutMs = headerTimeoutMs;
    this.bodyTimeoutMs = bodyTimeoutMs;
  }

  /** Connections this instance closed for being too slow, since start. */
  long closed() {
    return closedSlow;
  }

  private final class Watch {
    final HttpConnection connection;
    final long timer;
    HttpServerRequest current;
    long requests;
    long requestsAtLastLook = -1;

    Watch(HttpConnection connection) {
      this.connection = connection;
      // a look every header_timeout_ms: a connection that started no request in a whole period, and has none
      // in progress, is idle or stuck in its headers
      this.timer = vertx.setPeriodic(headerTimeoutMs, id -> look());
    }

    void look() {
      boolean busy = current != null && !current.response().ended();
      if (requests == requestsAtLastLook && !busy) {
        closedSlow++;
        stop();
        connection.close();
        return;
      }
      requestsAtLastLook = requests;
    }

    void stop() {
      vertx.cancelTimer(timer);
      watched.remove(connection);
    }
  }

  private static boolean isUpgrade(HttpServerRequest request) {
    return "websocket".equalsIgnoreCase(request.getHeader("Upgrade"));
  }

  /** For {@code HttpServer.connectionHandler}. */
  void connected(HttpConnection connection) {
    Watch watch = new Watch(connection);
    watched.put(connection, watch);
    connection.closeHandler(v -> {
      Watch gone = watched.remove(connection);
      if (gone != null) {
        vertx.cancelTimer(gone.timer);
      }
    });
  }

  /** Wraps the server's request handler. */
  Handler<HttpServerRequest> around(Handler<HttpServerRequest> handler) {
    return request -> {
      Watch watch = watched.get(request.connection());
      if (watch != null) {
        watch.requests++;
        watch.current = request;
        if (isUpgrade(request)) {
          // a WebSocket from here on (or a refused handshake, left to the idle timeout): no more requests come
          watch.stop();
        }
      }
      if (!request.isEnded() && !isUpgrade(request)) {
        long timer = vertx.setTimer(bodyTimeoutMs, id -> {
          if (!request.isEnded()) {
            closedSlow++;
            if (request.version() == HttpVersion.HTTP_2) {
              request.response().reset();
            } else {
              request.connection().close();
            }
          }
        });
        request.response().endHandler(v -> vertx.cancelTimer(timer));
      }
      handler.handle(request);
    };
  }
}
