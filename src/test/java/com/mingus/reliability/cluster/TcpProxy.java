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
 * A TCP proxy in front of one port (a node's PostgreSQL, a Hazelcast member, an event-bus server), so a
 * test can cut a node off ({@link #cut}: the listening socket and every open connection closed, new ones
 * refused) while the rest of the cluster keeps it, and {@link #heal} the link again on the same port.
 */
final class TcpProxy implements AutoCloseable {
  private final Vertx vertx = Vertx.vertx();
  private final NetClient client = vertx.createNetClient();
  private final String targetHost;
  private final int targetPort;
  private final Set<NetSocket> sockets = ConcurrentHashMap.newKeySet();
  private final int port;
  private NetServer server;

  TcpProxy(String targetHost, int targetPort) {
    this(targetHost, targetPort, 0);
  }

  /** Listens on {@code port} (0: any free one) and passes every connection on to the target. */
  TcpProxy(String targetHost, int targetPort, int port) {
    this.targetHost = targetHost;
    this.targetPort = targetPort;
    this.port = listen(port);
  }

  private int listen(int onPort) {
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
        inbound.closeHandler(v -> {
          sockets.remove(inbound);
          outbound.close();
        });
        outbound.closeHandler(v -> {
          sockets.remove(outbound);
          inbound.close();
        });
        inbound.resume();
      });
    });
    return Await.result(server.listen(onPort, "127.0.0.1"), Duration.ofSeconds(10)).actualPort();
  }

  int port() {
    return port;
  }

  /** The link goes: nothing sent through it and nothing sent to it gets through any more. */
  void cut() {
    Await.result(server.close(), Duration.ofSeconds(10));
    sockets.forEach(NetSocket::close);
    sockets.clear();
  }

  /** The link comes back on the same port. */
  void heal() {
    listen(port);
  }

  @Override
  public void close() {
    Await.result(vertx.close(), Duration.ofSeconds(10));
  }
}
