package com.mingus.reliability.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Nothing in flight is lost when a node dies (docs/cluster.md), on the path users take: webhooks, not
 * sync-now. Two clustered nodes on one PostgreSQL, a node killed while Plaid's webhooks are in flight, and
 * every connection equal to the sandbox's ground truth within 30 s of the kill.
 */
class FailoverTest {

  /**
   * The scenario: 50 connections registered through node 0 with their webhooks pointing at node 0,
   * a change on every Item, node 1 SIGKILLed at a random moment while those webhooks' syncs run, one more
   * transaction on every Item, new users linking while node 0 takes over.
   */
  @Test
  void webhooksToOneNodeWhileTheOtherIsKilledLoseNothing() {
    List<Failover.Round> rounds = Failover.run(new Failover.Plan("failover-issue", 50, 20,
        List.of(Failover.Kill.SIGKILL, Failover.Kill.SYNC_COMMIT), false, 5, 0, 14L));
    for (Failover.Round round : rounds) {
      assertClean(round);
    }
  }

  /**
   * Rounds of the random test: each kind four times. With ten (each twice) a crash point was once never
   * reached in either of its rounds, so twenty it stays; {@code -Dfailover.rounds=} for more or fewer.
   */
  private static final int RANDOM_ROUNDS = Integer.getInteger("failover.rounds", 20);

  /**
   * Rounds behind a balancer (twenty), each killing a random node at a
   * random instant of one kind (webhook intake, a sync's commit, a notification's send, a permit's grant, or
   * SIGKILL at a random moment), every kind equally often, each round verified against the ground truth.
   */
  @Test
  void randomKillsEachVerifiedAgainstTheGroundTruth() {
    List<Failover.Round> rounds = Failover.run(new Failover.Plan("failover-random", 30, 15,
        Failover.kills(RANDOM_ROUNDS, 2026L), true, 2, 2, 2026L));
    assertThat(rounds).hasSize(RANDOM_ROUNDS);
    for (Failover.Round round : rounds) {
      assertClean(round);
    }
    // every crash point was really reached, not replaced by a plain kill
    assertThat(Failover.kinds(rounds)).containsExactlyInAnyOrder(Failover.Kill.WEBHOOK_INTAKE,
        Failover.Kill.SYNC_COMMIT, Failover.Kill.NOTIFY_SEND, Failover.Kill.PERMIT_GRANT);
  }

  private static void assertClean(Failover.Round round) {
    String where = "round " + round.toJson().encode();
    assertThat(round.missing()).as("transactions missing 30 s after the kill, " + where).isZero();
    assertThat(round.extra()).as("transactions extra (removed at Plaid, still held), " + where).isZero();
    assertThat(round.stale()).as("transactions stale (amount, date or pending differ), " + where).isZero();
    assertThat(round.truthAfterMs()).as("ms from the kill to the ground truth, " + where)
        .isLessThanOrEqualTo(Failover.TRUTH_BOUND.toMillis());
    assertThat(round.refused()).as("registrations refused during the take-over, " + where).isZero();
    assertThat(round.outboxLeft()).as("health events left in sync's outbox, " + where).isZero();
    assertThat(round.noticesPending()).as("notices left pending for notify, " + where).isZero();
    assertThat(round.notificationsDelivered()).as("notifications that reached their recipient, " + where)
        .isEqualTo(round.notificationsAsked());
    // a death after SMTP took a mail and before that was written sends it again, with the same Message-ID
    // (copies are counted by Message-ID): every mail the dying node had sent but not recorded, once more
    if (round.kill() == Failover.Kill.NOTIFY_SEND && round.diedAtPoint()) {
      assertThat(round.mailMostCopies()).as("copies of one mail, " + where).isLessThanOrEqualTo(2);
    } else {
      assertThat(round.mailCopiesExtra()).as("mails sent twice, " + where).isZero();
    }
  }
}
