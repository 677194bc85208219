package com.mingus.reliability.cluster;

import static com.mingus.reliability.cluster.LimiterNodes.acquire;
import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.config.Config;
import com.mingus.reliability.app.Clustering;
import com.mingus.reliability.bus.MessageCodecs;
import com.mingus.reliability.bus.PermitReply;
import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.Sql;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A network partition gives no second budget owner (issue 14; docs/cluster.md, "Plaid's budget"). Two
 * clustered limiter nodes in this JVM on one PostgreSQL, each one's Hazelcast member and event-bus server
 * reached by the other only through a {@link TcpProxy} (the member announces the proxy as its public
 * address), so cutting the proxies isolates a member while both processes live on and keep taking requests.
 * Both sides ask for permits before, during and after the partition; the hour's budget is the same
 * {@value #HOURLY} throughout, and what both sides were granted never exceeds it.
 */
class RateLimitPartitionTest {
  private static final String ENDPOINT = "/transactions/get";
  private static final int HOURLY = 40;

  /** A limiter node whose cluster links (Hazelcast member, event-bus server) are reached only through proxies. */
  private record Node(Vertx vertx, HazelcastClusterManager manager, TcpProxy member, TcpProxy bus) {
    int members() {
      return manager.getNodes().size();
    }
  }

  private final List<AutoCloseable> proxies = new ArrayList<>();
  private DatabaseTarget database;
  private TcpProxy databaseOfA;
  private Node a;
  private Node b;

  @BeforeEach
  void start() {
    database = TestDatabase.fresh(RateLimitPartitionTest.class);
    databaseOfA = proxy(new TcpProxy(database.host(), database.port()));
    JsonObject limits = new JsonObject().put(ENDPOINT, new JsonObject().put("per_hour", HOURLY).put("per_item_per_minute", 1_000));
    String name = "partition-" + UUID.randomUUID().toString().substring(0, 8);
    int memberA = ClusterHarness.freePort();
    int memberB = ClusterHarness.freePort();
    TcpProxy toA = proxy(new TcpProxy("127.0.0.1", memberA));
    TcpProxy toB = proxy(new TcpProxy("127.0.0.1", memberB));
    String members = "127.0.0.1:" + toA.port() + ",127.0.0.1:" + toB.port();

    a = join(name, memberA, toA, members);
    LimiterNodes.deploy(a.vertx(), LimiterNodes.config(database, databaseOfA.port(), 1.0, limits));
    Await.until(() -> token() == 1, Duration.ofSeconds(20), "A holds the lease");
    b = join(name, memberB, toB, members);
    LimiterNodes.deploy(b.vertx(), LimiterNodes.config(database, database.port(), 1.0, limits));
    Await.until(() -> a.members() == 2 && b.members() == 2, Duration.ofSeconds(30), "A and B form one cluster");

    // half the hour before the partition: 10 through the owner, 10 forwarded to it by B
    assertThat(granted(ask(a, 10, 10_000))).isEqualTo(10);
    assertThat(granted(ask(b, 10, 10_000))).as("B's permits, decided by A").isEqualTo(10);
    assertThat(token()).isEqualTo(1);
  }

  @AfterEach
  void close() {
    LimiterNodes.close(b == null ? null : b.vertx(), a == null ? null : a.vertx());
    for (AutoCloseable proxy : proxies) {
      try {
        proxy.close();
      } catch (Exception e) {
        // closing the next one matters more
      }
    }
  }

  /**
   * The owner loses the network (cluster and database): it stops deciding when its lease runs out by its
   * own clock, and grants nothing more, however its callers ask; B takes the lease over once it expired
   * by PostgreSQL's clock and goes on from the journal's exact 20. When the network comes back, the
   * members merge, A does not take its budget back, and its callers are decided by B against the same count.
   */
  @Test
  void anIsolatedOwnerGrantsNothingMoreAndOneOtherNodeTakesOverWithTheCounts() {
    String firstOwner = owner();
    partition();
    databaseOfA.cut();

    List<Future<PermitReply>> onA = ask(a, 20, 8_000);
    List<Future<PermitReply>> onB = ask(b, 30, 20_000);
    settle(onA, 30);
    settle(onB, 40);
    assertThat(granted(onA)).as("permits the isolated former owner granted").isZero();
    assertThat(granted(onB)).as("permits B granted as the new owner: the rest of the hour (%s)", outcomes(onB))
        .isEqualTo(HOURLY - 20);
    assertThat(blocked(onB, "client_hour")).as("B's callers refused because the hour is spent").isEqualTo(10);
    assertThat(token()).as("one take-over, one new fencing token").isEqualTo(2);
    assertThat(owner()).isNotEqualTo(firstOwner);

    heal();
    databaseOfA.heal();
    Await.until(() -> a.members() == 2 && b.members() == 2, Duration.ofSeconds(60), "the partition heals into one cluster");
    List<Future<PermitReply>> afterOnA = ask(a, 5, 15_000);
    settle(afterOnA, 30);
    assertThat(granted(afterOnA)).as("A's permits after the merge, decided against B's count (%s)", outcomes(afterOnA)).isZero();
    assertThat(blocked(afterOnA, "client_hour")).as("A's callers told the hour is spent, not failed").isEqualTo(5);
    assertThat(token()).as("A did not take its budget back").isEqualTo(2);
    assertJournal(20, 20);
  }

  /**
   * A member cut off from the cluster but not from the database, while it owns the budget: Hazelcast on
   * both sides believes the other is dead, yet B cannot take the lease A keeps renewing, so there is still
   * one owner. A goes on granting; B's callers wait and are not granted (they would be by a second owner
   * with its own count). After the merge B's callers reach A again and get exactly the rest of the hour.
   */
  @Test
  void aMemberCutOffFromTheClusterButNotTheDatabaseLeavesOneOwner() {
    partition();
    Await.until(() -> a.members() == 1 && b.members() == 1, Duration.ofSeconds(30), "each side believes it is alone");

    List<Future<PermitReply>> onB = ask(b, 10, 3 * LimiterNodes.LEASE_MS);
    List<Future<PermitReply>> onA = ask(a, 10, 5_000);
    long until = System.nanoTime() + 3 * LimiterNodes.LEASE_MS * 1_000_000;
    while (System.nanoTime() < until) {
      assertThat(token()).as("the fencing token while the cluster is split").isEqualTo(1);
      ClusterHarness.pause(100);
    }
    settle(onA, 30);
    settle(onB, 30);
    assertThat(granted(onA)).as("permits the owner granted while split off").isEqualTo(10);
    assertThat(granted(onB)).as("permits granted on the side without the lease").isZero();

    heal();
    Await.until(() -> a.members() == 2 && b.members() == 2, Duration.ofSeconds(60), "the partition heals into one cluster");
    List<Future<PermitReply>> afterOnB = ask(b, 12, 15_000);
    settle(afterOnB, 30);
    assertThat(granted(afterOnB)).as("B's permits after the merge: the rest of the hour (%s)", outcomes(afterOnB)).isEqualTo(HOURLY - 30);
    assertThat(blocked(afterOnB, "client_hour")).isEqualTo(2);
    assertThat(token()).as("no take-over through the whole partition").isEqualTo(1);
    assertJournal(HOURLY, 0);
  }

  /** A and B lose each other: with two members, A's links both ways (to its proxies and to B's) go. */
  private void partition() {
    for (Node node : List.of(a, b)) {
      node.member().cut();
      node.bus().cut();
    }
  }

  private void heal() {
    for (Node node : List.of(a, b)) {
      node.member().heal();
      node.bus().heal();
    }
  }

  private Node join(String name, int memberPort, TcpProxy toMember, String members) {
    Config config = Clustering.hazelcastConfig(LimiterNodes.settings(name, memberPort, members));
    // the other member reaches this one only through the proxy
    config.getNetworkConfig().setPublicAddress("127.0.0.1:" + toMember.port());
    HazelcastClusterManager manager = new HazelcastClusterManager(config);
    int busPort = ClusterHarness.freePort();
    TcpProxy toBus = proxy(new TcpProxy("127.0.0.1", busPort));
    EventBusOptions bus = Clustering.eventBusOptions(LimiterNodes.settings(name, memberPort, members))
        .setPort(busPort).setClusterPublicHost("127.0.0.1").setClusterPublicPort(toBus.port());
    Vertx vertx = Await.result(Vertx.builder().with(new VertxOptions().setEventBusOptions(bus))
        .withClusterManager(manager).buildClustered(), Duration.ofSeconds(60));
    MessageCodecs.register(vertx.eventBus());
    return new Node(vertx, manager, toMember, toBus);
  }

  private TcpProxy proxy(TcpProxy proxy) {
    proxies.add(proxy);
    return proxy;
  }

  /** {@code count} permits asked at once on a node, each willing to wait {@code waitMs}; a failed ask is not a grant. */
  private static List<Future<PermitReply>> ask(Node node, int count, long waitMs) {
    List<Future<PermitReply>> replies = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      replies.add(acquire(node.vertx(), ENDPOINT, "item-" + i, waitMs));
    }
    return replies;
  }

  /** Every reply in, granted, refused or failed. */
  private static void settle(List<Future<PermitReply>> replies, long seconds) {
    Await.result(Future.join(replies).<Void>transform(done -> Future.succeededFuture()), Duration.ofSeconds(seconds));
  }

  private static int granted(List<Future<PermitReply>> replies) {
    settle(replies, 60);
    return (int) replies.stream().filter(reply -> reply.succeeded() && reply.result().granted()).count();
  }

  /** What the replies were, for a failing assertion's message: granted, refused by what, failed with what. */
  private static String outcomes(List<Future<PermitReply>> replies) {
    return replies.stream().map(reply -> reply.failed() ? "failed: " + reply.cause().getMessage()
            : reply.result().granted() ? "granted" : "refused by " + reply.result().blockedBy())
        .collect(Collectors.groupingBy(outcome -> outcome, TreeMap::new, Collectors.counting()))
        .toString();
  }

  private static int blocked(List<Future<PermitReply>> replies, String by) {
    return (int) replies.stream()
        .filter(reply -> reply.succeeded() && !reply.result().granted() && by.equals(reply.result().blockedBy())).count();
  }

  /** The journal holds exactly what was granted, under the token that granted it. */
  private void assertJournal(long underFirst, long underSecond) {
    String sum = "SELECT COALESCE(sum(grants), 0) FROM ratelimit_grants WHERE endpoint = '" + ENDPOINT + "' AND fencing_token = ";
    assertThat(Sql.number(database, sum + 1)).as("grants journalled under token 1").isEqualTo(underFirst);
    assertThat(Sql.number(database, sum + 2)).as("grants journalled under token 2").isEqualTo(underSecond);
  }

  private long token() {
    return Sql.number(database, "SELECT COALESCE(max(fencing_token), 0) FROM ratelimit_owners WHERE endpoint = '"
        + ENDPOINT + "'");
  }

  private String owner() {
    return Sql.strings(database, "SELECT owner FROM ratelimit_owners WHERE endpoint = '" + ENDPOINT + "'").get(0);
  }
}
