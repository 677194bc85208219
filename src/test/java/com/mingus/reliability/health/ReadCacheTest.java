package com.mingus.reliability.health;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.bus.ConnectionHealth;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The health read cache on a hand-turned clock (milliseconds as nanoseconds x 1e6). */
class ReadCacheTest {
  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  private final ReadCache cache = new ReadCache(1_000, 3, nanos::get);

  private static ConnectionHealth health(String id) {
    return ConnectionHealth.fresh(id, "alice", "item-" + id, "ins_1", "Bank", Instant.parse("2026-12-07T00:00:00Z"));
  }

  private void advanceMs(long ms) {
    nanos.addAndGet(ms * 1_000_000L);
  }

  private void read(String userId, String id) {
    advanceMs(1);
    long began = cache.begin();
    cache.put(userId, id, health(id), began);
  }

  @Test
  void aKeptReadIsServedToItsReaderWithinTheTimeToLive() {
    read("alice", "c1");
    assertThat(cache.get("alice", "c1")).isEqualTo(health("c1"));
    advanceMs(999);
    assertThat(cache.get("alice", "c1")).isNotNull();
    advanceMs(1);
    assertThat(cache.get("alice", "c1")).as("expired").isNull();
    assertThat(cache.hits()).isEqualTo(2);
    assertThat(cache.misses()).isEqualTo(1);
  }

  @Test
  void theSameRowReadAgainAfterItExpiredIsKeptAgain() {
    read("alice", "c1");
    advanceMs(1_500);
    assertThat(cache.get("alice", "c1")).as("expired").isNull();
    read("alice", "c1");
    assertThat(cache.get("alice", "c1")).as("read again: kept from this read on").isNotNull();
    advanceMs(999);
    assertThat(cache.get("alice", "c1")).isNotNull();
  }

  @Test
  void onlyWhoeverTheDatabaseShowedTheRowToIsServedIt() {
    read("alice", "c1");
    assertThat(cache.get("bob", "c1")).isNull();
    assertThat(cache.get(null, "c1")).as("the operator is a reader of its own").isNull();
    read(null, "c1");
    assertThat(cache.get(null, "c1")).isNotNull();
    assertThat(cache.get("alice", "c1")).isNotNull();
    assertThat(cache.get("bob", "c1")).isNull();
  }

  @Test
  void aDropMakesTheNextReadGoToTheDatabase() {
    read("alice", "c1");
    cache.drop("c1");
    assertThat(cache.get("alice", "c1")).isNull();
    read("alice", "c1");
    assertThat(cache.get("alice", "c1")).isNotNull();
  }

  @Test
  void aReadBegunBeforeADropDoesNotPutBackWhatItRead() {
    long slowRead = cache.begin();
    advanceMs(5);
    cache.drop("c1");
    advanceMs(5);
    cache.put("alice", "c1", health("c1"), slowRead);
    assertThat(cache.get("alice", "c1")).as("read before the write that dropped it").isNull();

    long before = cache.begin();
    advanceMs(5);
    cache.dropAll();
    advanceMs(5);
    cache.put("alice", "c2", health("c2"), before);
    assertThat(cache.get("alice", "c2")).as("read before the registry changed").isNull();
  }

  @Test
  void anOlderReadDoesNotReplaceANewerOne() {
    long older = cache.begin();
    advanceMs(5);
    cache.drop("c1");
    advanceMs(5);
    read("bob", "c1");
    cache.put("alice", "c1", health("c1"), older);
    assertThat(cache.get("alice", "c1")).isNull();
    assertThat(cache.get("bob", "c1")).isNotNull();
  }

  @Test
  void theLeastRecentlyUsedGoFirst() {
    read("alice", "c1");
    read("alice", "c2");
    read("alice", "c3");
    assertThat(cache.get("alice", "c1")).isNotNull();
    read("alice", "c4");
    assertThat(cache.get("alice", "c2")).as("least recently used").isNull();
    assertThat(cache.get("alice", "c1")).isNotNull();
    assertThat(cache.get("alice", "c4")).isNotNull();
  }

  @Test
  void aTimeToLiveOfZeroKeepsNothing() {
    ReadCache off = new ReadCache(0, 100, nanos::get);
    off.put("alice", "c1", health("c1"), off.begin());
    assertThat(off.get("alice", "c1")).isNull();
  }
}
