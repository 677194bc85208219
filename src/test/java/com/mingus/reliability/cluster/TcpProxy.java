package com.mingus.reliability.cluster;

import com.mingus.reliability.testsupport.Await;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP proxy in front of PostgreSQL for one node's pool, so a test can cut that node off the database
 * ({@link #cut}: the listening socket and every open connection closed, new ones refused) while the rest of
 * the cluster keeps it.
 */
final class TcpProxy implements AutoCloseable {
  private final Vertx vertx = Vertx.vertx();
  private final NetServer server;
  private final Set<NetSocket> sockets = ConcurrentHashMap.newKeySet();

  TcpProxy(String targetHost, int targetPort) {
    NetClient client = vertx.createNetClient();
    server = vertx.createNetServer().connectHandler(inbound -> {
      inbound.pause();
      sockets.add(inbound);
      client.connect(targetPort, targetHost).onComplete(connected -> {
        if (connected.failed()) {
          inbound.close();
          return;
        }
        NetSocket outbound = connected.result();
        sockets.add(outbound);
        inbound.handler(outbound::write);
        outbound.handler(inbound::write);
        inbound.closeHandler(v -> outbound.close());
        outbound.closeHandler(v -> inbound.close());
        inbound.resume();
      });
    });
    Await.result(server.listen(0, "127.0.0.1"), Duration.ofSeconds(10));
  }

  int port() {
    return server.actualPort();
  }

  /** The node loses the database: nothing it sent and nothing it sends gets through any more. */
  void cut() {
    Await.result(server.close(), Duration.ofSeconds(10));
    sockets.forEach(NetSocket::close);
  }

  @Override
  public void close() {
    Await.result(vertx.close(), Duration.ofSeconds(10));
  }
}
