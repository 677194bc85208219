package com.mingus.reliability.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The short chaos run of the suite: two clustered nodes (separate JVMs), faults, changing data,
 * notifications, one SIGKILL and a restart. Every promise of a single node holds across the cluster.
 * The full run (3 nodes, 2,000 connections, a kill every 20 s for 3 minutes) is {@link ClusterChaos#main}.
 */
class ClusterChaosTest {

  @Test
  void twoNodesWithOneKilledKeepEveryPromiseOfOne() {
    ClusterChaos.Outcome outcome = ClusterChaos.run(new ClusterChaos.Plan("chaos-short", 2, 80, 30,
        Duration.ofSeconds(15), Duration.ofSeconds(8), Duration.ofSeconds(3), 20, 0.25, 375, 50, 10, 0.05));
    assertThat(outcome.kills()).isEqualTo(1);
    // after the kills, changes that reach the cluster only as webhooks (the path users take) are all applied
    assertThat(outcome.webhookMismatched()).as("connections differing from the ground truth by webhooks alone")
        .isZero();
    assertThat(outcome.mismatched()).as("connections differing from the sandbox's ground truth").isZero();
    assertThat(outcome.duplicates()).as("duplicate transactions").isZero();
    assertThat(outcome.rateLimited()).as("429s the sandbox sent").isZero();
    assertThat(outcome.sandboxRequests()).isPositive();
    assertThat(outcome.notifications()).isEqualTo(20);
    assertThat(outcome.undelivered()).as("deliveries not sent").isZero();
    assertThat(outcome.emailsSent()).as("recipients that got mail").isEqualTo(20);
    assertThat(outcome.emailDuplicates()).as("recipients that got a mail twice").isZero();
    assertThat(outcome.inAppAnnounced()).isEqualTo(20);
    assertThat(outcome.inAppDuplicates()).isZero();
    assertThat(outcome.healthChanges()).as("health changes published to another member").isPositive();
    // the feed carries states: an identical state sent twice (two nodes applying neighbouring events of one
    // connection) is harmless to a browser, and rare; a change sent by every node would be every change
    assertThat(outcome.healthRepeats()).as("health changes published twice").isLessThanOrEqualTo(
        Math.max(2, outcome.healthChanges() / 20));
    // a browser on the node that survived was told about every connection whose health changed, on any node
    assertThat(outcome.feedsOpen()).as("feeds open to the end").isPositive();
    assertThat(outcome.healthConnections()).isPositive();
    assertThat(outcome.feedMissing()).as("connections a surviving feed never heard of").isZero();
    assertThat(outcome.worstRecoveryMs()).as("slowest takeover of a dead node's leases").isLessThan(15_000);
  }
}
