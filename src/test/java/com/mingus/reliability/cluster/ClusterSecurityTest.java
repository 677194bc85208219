package com.mingus.reliability.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.client.config.ClientConfig;
import com.mingus.reliability.app.Clustering;
import com.mingus.reliability.config.ClusterSettings;
import com.mingus.reliability.testsupport.Await;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Membership is by certificate, not by cluster name. Two authorised nodes (certificates from one cluster CA)
 * form a cluster and exchange messages; then intruders with the same cluster name, the same member list and
 * an address the real nodes even list as a member: a plain Hazelcast/Vert.x node with no certificate, a node
 * with another CA's certificate, a Hazelcast client, and raw TLS connections to the event bus. None of them
 * joins, none receives a published message, none can deliver a command, and the real nodes keep working.
 */
@Timeout(240)
class ClusterSecurityTest {
  private static final String EVENTS = "security.test.events";
  private static final String COMMAND = "security.test.command";

  private final List<Vertx> started = new ArrayList<>();

  @AfterEach
  void close() {
    // intruders first, then the real nodes
    for (int i = started.size() - 1; i >= 0; i--) {
      try {
        Await.result(started.get(i).close(), Duration.ofSeconds(30));
      } catch (AssertionError | RuntimeException e) {
        // closing is best effort
      }
    }
  }

  @Test
  void onlyCertifiedMembersJoinReceiveAndCommand() throws Exception {
    String name = "mingus-sec-" + UUID.randomUUID().toString().substring(0, 8);
    int portA = ClusterHarness.freePort();
    int portB = ClusterHarness.freePort();
    int portPlain = ClusterHarness.freePort();
    int portWrongCa = ClusterHarness.freePort();
    // the intruders' addresses are listed too: the real nodes try to reach them, as they would a restarted member
    String members = "127.0.0.1:" + portA + ",127.0.0.1:" + portB + ",127.0.0.1:" + portPlain + ",127.0.0.1:" + portWrongCa;
    Path clusterCa = Files.createTempDirectory("mingus-sec-ca");
    Path otherCa = Files.createTempDirectory("mingus-sec-other-ca");

    // the authorised cluster: one CA, a certificate of its own for each node
    Vertx a = secureNode(name, portA, members, clusterCa);
    Vertx b = secureNode(name, portB, members, clusterCa);
    Await.until(() -> memberCount(a) == 2 && memberCount(b) == 2, Duration.ofSeconds(60), "A and B form one cluster");

    List<String> receivedByB = new CopyOnWriteArrayList<>();
    AtomicInteger commandsOnB = new AtomicInteger();
    Await.result(b.eventBus().<String>consumer(EVENTS, m -> receivedByB.add(m.body())).completion());
    Await.result(b.eventBus().<String>consumer(COMMAND, m -> {
      commandsOnB.incrementAndGet();
      m.reply("done by B: " + m.body());
    }).completion());
    Await.until(() -> {
      a.eventBus().publish(EVENTS, "hello");
      return receivedByB.contains("hello");
    }, Duration.ofSeconds(30), "a message published on A reaches B");
    assertThat(request(a, "from A")).isEqualTo("done by B: from A");

    // intruder 1: same cluster name, no certificate at all (stock Hazelcast, plain event bus)
    ClusterSettings plainSettings = LimiterNodes.settings(name, portPlain, members);
    Vertx plain = start(new HazelcastClusterManager(Clustering.hazelcastConfig(plainSettings)),
        Clustering.eventBusOptions(plainSettings));
    // intruder 2: a certificate and key of its own, from another CA
    ClusterSettings wrongSettings = LimiterNodes.settings(name, portWrongCa, members);
    ClusterIdentity wrongIdentity = ClusterIdentity.devDefault(otherCa, List.of("127.0.0.1"));
    Vertx wrongCa = start(Clustering.clusterManager(wrongSettings, wrongIdentity),
        Clustering.eventBusOptions(wrongSettings, wrongIdentity));

    List<String> receivedByIntruders = new CopyOnWriteArrayList<>();
    for (Vertx intruder : List.of(plain, wrongCa)) {
      Await.result(intruder.eventBus().<String>consumer(EVENTS, m -> receivedByIntruders.add(m.body())).completion());
      assertThat(memberCount(intruder)).as("an intruder is alone in its own cluster").isEqualTo(1);
    }
    assertThat(memberCount(a)).isEqualTo(2);
    assertThat(memberCount(b)).isEqualTo(2);

    // the real nodes publish; B gets every message, no intruder any
    for (int i = 0; i < 20; i++) {
      a.eventBus().publish(EVENTS, "secret-" + i);
      b.eventBus().publish(EVENTS, "secret-b-" + i);
    }
    Await.until(() -> receivedByB.containsAll(List.of("secret-19", "secret-b-19")), Duration.ofSeconds(30),
        "B receives what A and B publish");
    // a full round trip through the cluster after the last publish: anything in flight has landed by now
    assertThat(request(a, "barrier")).isEqualTo("done by B: barrier");
    assertThat(receivedByIntruders).as("what intruders received").isEmpty();

    // an intruder's command reaches no real node: nobody in its cluster handles the address
    int before = commandsOnB.get();
    for (Vertx intruder : List.of(plain, wrongCa)) {
      Future<Message<String>> reply = intruder.eventBus().request(COMMAND, "sync everything",
          new DeliveryOptions().setSendTimeout(3_000));
      assertThatThrownBy(() -> Await.result(reply, Duration.ofSeconds(10))).as("an intruder's request fails");
      intruder.eventBus().publish(EVENTS, "forged");
    }
    assertThat(request(a, "after the intruders")).isEqualTo("done by B: after the intruders");
    assertThat(commandsOnB.get()).as("commands B handled: only A's").isEqualTo(before + 1);
    assertThat(receivedByB).doesNotContain("forged");
    // an intruder hears only itself
    assertThat(receivedByIntruders).containsOnly("forged");

    // a Hazelcast client with the cluster name cannot connect to a real member (it would read every map)
    ClientConfig client = new ClientConfig().setClusterName(name);
    client.getNetworkConfig().addAddress("127.0.0.1:" + portA);
    client.getConnectionStrategyConfig().getConnectionRetryConfig().setClusterConnectTimeoutMillis(3_000);
    assertThatThrownBy(() -> HazelcastClient.newHazelcastClient(client).shutdown())
        .as("a Hazelcast client is refused").isInstanceOf(IllegalStateException.class);

    // the event bus port itself: TLS without a client certificate, and with another CA's, is cut off
    int busPortB = ((VertxInternal) b).clusterManager().getNodeInfo().port();
    ClusterIdentity foreign = ClusterIdentity.devDefault(otherCa, List.of("127.0.0.1"));
    NetClientOptions noCert = new NetClientOptions().setSsl(true).setTrustAll(true).setHostnameVerificationAlgorithm("");
    NetClientOptions foreignCert = new NetClientOptions(noCert).setKeyCertOptions(foreignKeyCert(foreign));
    for (NetClientOptions options : List.of(noCert, foreignCert)) {
      assertThat(cutOff(plain, options, busPortB)).as("a TLS connection to B's event bus is refused").isTrue();
    }

    // bound to the configured interface only: 127.0.0.2 is loopback too, and a wildcard bind would answer there
    for (int port : List.of(portA, busPortB)) {
      assertThat(accepts("127.0.0.1", port)).as("listening on 127.0.0.1:" + port).isTrue();
      assertThat(accepts("127.0.0.2", port)).as("not listening on 127.0.0.2:" + port).isFalse();
    }

    // and the real cluster still works
    assertThat(memberCount(a)).isEqualTo(2);
    a.eventBus().publish(EVENTS, "still here");
    Await.until(() -> receivedByB.contains("still here"), Duration.ofSeconds(30), "the cluster still carries messages");
    assertThat(request(a, "last")).isEqualTo("done by B: last");
    assertThat(receivedByIntruders).containsOnly("forged");
  }

  private Vertx secureNode(String name, int port, String members, Path caDir) {
    ClusterSettings settings = LimiterNodes.settings(name, port, members);
    ClusterIdentity identity = ClusterIdentity.devDefault(caDir, List.of("127.0.0.1"));
    return start(Clustering.clusterManager(settings, identity), Clustering.eventBusOptions(settings, identity));
  }

  private Vertx start(HazelcastClusterManager manager, EventBusOptions bus) {
    Vertx vertx = Await.result(Vertx.builder().with(new VertxOptions().setEventBusOptions(bus))
        .withClusterManager(manager).buildClustered(), Duration.ofSeconds(90));
    started.add(vertx);
    return vertx;
  }

  private static int memberCount(Vertx vertx) {
    HazelcastClusterManager manager = (HazelcastClusterManager) ((VertxInternal) vertx).clusterManager();
    return manager.getHazelcastInstance().getCluster().getMembers().size();
  }

  private static String request(Vertx from, String body) {
    return Await.result(from.eventBus().<String>request(COMMAND, body, new DeliveryOptions().setSendTimeout(10_000)),
        Duration.ofSeconds(15)).body();
  }

  private static boolean accepts(String host, int port) {
    try (java.net.Socket socket = new java.net.Socket()) {
      socket.connect(new java.net.InetSocketAddress(host, port), 2_000);
      return true;
    } catch (java.io.IOException e) {
      return false;
    }
  }

  private static PemKeyCertOptions foreignKeyCert(ClusterIdentity identity) {
    EventBusOptions options = identity.secure(new EventBusOptions());
    return (PemKeyCertOptions) options.getKeyCertOptions();
  }

  /** True when the connection fails, or is closed by the server without a byte of the event bus coming back. */
  private static boolean cutOff(Vertx vertx, NetClientOptions options, int port) {
    NetClient client = vertx.createNetClient(options);
    try {
      NetSocket socket;
      AtomicBoolean closed = new AtomicBoolean();
      AtomicBoolean answered = new AtomicBoolean();
      try {
        // the handlers go on in the connect's own callback, on the socket's event loop: set from this thread
        // afterwards, a close that came in between (the server refusing at once) would never be seen
        socket = Await.result(client.connect(port, "127.0.0.1").onSuccess(connected -> {
          connected.closeHandler(v -> closed.set(true));
          connected.handler(data -> answered.set(true));
        }), Duration.ofSeconds(10));
      } catch (AssertionError | RuntimeException e) {
        return true;
      }
      // any bytes at all: a real peer would now send a framed message
      socket.write(Buffer.buffer(new byte[] {0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8}));
      Await.until(closed::get, Duration.ofSeconds(30), "the event bus closes an unauthenticated connection");
      return !answered.get();
    } finally {
      client.close();
    }
  }
}
