package com.mingus.reliability.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The feed's shared, bounded snapshot reads, driven by hand: which reads are sent, and who gets which answer. */
class SnapshotReadsTest {
  private final List<Promise<String>> sent = new ArrayList<>();

  private Future<String> source() {
    Promise<String> answer = Promise.promise();
    sent.add(answer);
    return answer.future();
  }

  @Test
  void readersOfTheSameThingShareAReadNotYetSentButNeverOneInFlight() {
    SnapshotReads reads = new SnapshotReads(1);
    Future<String> first = reads.read("institutions", this::source);
    // in flight: a later reader could miss a change published before it registered, so it waits for the next read
    Future<String> second = reads.read("institutions", this::source);
    Future<String> third = reads.read("institutions", this::source);
    assertThat(sent).hasSize(1);
    assertThat(reads.queued()).isEqualTo(1);

    sent.get(0).complete("read 1");
    assertThat(first.result()).isEqualTo("read 1");
    assertThat(second.isComplete()).isFalse();
    assertThat(sent).as("the second read is sent once the first is answered").hasSize(2);
    sent.get(1).complete("read 2");
    assertThat(second.result()).isEqualTo("read 2");
    assertThat(third.result()).as("joined the queued read").isEqualTo("read 2");
    assertThat(reads.inFlight()).isZero();
  }

  @Test
  void atMostSoManyReadsAreOutAtOnceAndAFailureReachesEveryoneWhoShared() {
    SnapshotReads reads = new SnapshotReads(2);
    List<Future<String>> users = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      users.add(reads.read("connections:user" + i, this::source));
    }
    Future<String> sharing = reads.read("connections:user4", this::source);
    assertThat(sent).hasSize(2);
    assertThat(reads.inFlight()).isEqualTo(2);
    sent.get(0).complete("a");
    sent.get(1).complete("b");
    assertThat(sent).hasSize(4);
    sent.get(2).complete("c");
    sent.get(3).complete("d");
    assertThat(sent).hasSize(5);
    sent.get(4).fail("health does not answer");
    assertThat(users.get(4).failed()).isTrue();
    assertThat(sharing.cause()).hasMessage("health does not answer");
    assertThat(users.subList(0, 4)).allMatch(Future::succeeded);
  }
}
