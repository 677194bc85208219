package com.mingus.reliability.cluster;

import com.mingus.reliability.testsupport.Await;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;

/**
 * What an operator puts in front of a cluster's HTTP ports: a TCP balancer on loopback that hands each
 * connection to the next node in turn, and to the one after when a node refuses the connection (it is
 * dead or not yet listening). No health checks: a node that accepts and then dies mid-request drops that
 * request, as it would behind a real balancer, and the caller (Plaid, for a webhook) sends it again.
 */
final class LoadBalancer implements AutoCloseable {
  private final Vertx vertx = Vertx.vertx();
  private final NetClient client = vertx.createNetClient(new NetClientOptions().setConnectTimeout(1_000));
  private final List<IntSupplier> backends;
  private final AtomicInteger next = new AtomicInteger();
  private final NetServer server;

  /** {@code backends}: each node's HTTP port, asked at every connection (a node may move when restarted). */
  LoadBalancer(List<IntSupplier> backends) {
    this.backends = backends;
    this.server = Await.result(vertx.createNetServer().connectHandler(this::accept).listen(0, "127.0.0.1"));
  }

  int port() {
    return server.actualPort();
  }

  private void accept(NetSocket inbound) {
    inbound.pause();
    connect(Math.floorMod(next.getAndIncrement(), backends.size()), backends.size())
        .onSuccess(outbound -> {
          inbound.pipeTo(outbound);
          outbound.pipeTo(inbound);
          inbound.resume();
        })
        .onFailure(none -> inbound.close());
  }

  private Future<NetSocket> connect(int index, int triesLeft) {
    return client.connect(backends.get(index).getAsInt(), "127.0.0.1")
        .recover(refused -> triesLeft > 1 ? connect((index + 1) % backends.size(), triesLeft - 1)
            : Future.failedFuture(refused));
  }

  @Override
  public void close() {
    Await.result(vertx.close());
  }
}
