package com.mingus.reliability.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SlidingWindowTest {
  private static final SlidingWindow.Learning LEARNING = new SlidingWindow.Learning(0.8, 0.1, 10, 0.05);

  @Test
  void neverGrantsMoreThanTheBudgetInAnyIntervalOfOneWindowWhateverTheArrivals() {
    Random random = new Random(7);
    SlidingWindow window = new SlidingWindow("minute", 60_000, 0, 100, LEARNING);
    List<Long> grants = new ArrayList<>();
    long now = 0;
    for (int i = 0; i < 200_000; i++) {
      now += random.nextInt(4) == 0 ? random.nextInt(2_000) : 0;
      if (window.nextFree(now) <= now) {
        window.record(now);
        grants.add(now);
      }
    }
    // every window of 60 s that starts at a grant is the worst placement of a server's window
    int j = 0;
    for (int i = 0; i < grants.size(); i++) {
      while (j < grants.size() && grants.get(j) < grants.get(i) + 60_000) {
        j++;
      }
      assertThat(j - i).as("grants in [%d, %d)", grants.get(i), grants.get(i) + 60_000).isLessThanOrEqualTo(100);
    }
    assertThat(grants).hasSizeGreaterThan(100 * (int) (now / 60_000) * 9 / 10);
  }

  @Test
  void theWholeBudgetGoesAtOnceAndAgainExactlyWhenTheOldestGrantLeavesTheWindowAndItsMargin() {
    SlidingWindow window = new SlidingWindow("minute", 60_000, 500, 120, LEARNING);
    for (int i = 0; i < 120; i++) {
      assertThat(window.nextFree(1_000 + i)).isEqualTo(1_000 + i);
      window.record(1_000 + i);
    }
    assertThat(window.nextFree(1_200)).isEqualTo(1_000 + 60_500);
    assertThat(window.used(61_499)).isEqualTo(120);
    assertThat(window.nextFree(61_500)).isEqualTo(61_500);
    assertThat(window.used(61_500)).isEqualTo(119);
  }

  @Test
  void a429LowersTheBudgetToWhatTheServerAcceptedInTheWindow() {
    SlidingWindow window = new SlidingWindow("minute", 3_000, 0, 100, LEARNING);
    for (int i = 0; i < 100; i++) {
      window.record(0);
    }
    for (int i = 0; i < 20; i++) {
      window.onRejected(10 + i);
    }
    assertThat(window.effective(100)).isEqualTo(80);
    // the learned budget holds in the next windows: 80 go, the 81st waits
    for (int i = 0; i < 80; i++) {
      assertThat(window.nextFree(3_000)).isEqualTo(3_000);
      window.record(3_000);
    }
    assertThat(window.nextFree(3_000)).isEqualTo(6_000);
  }

  @Test
  void withoutEvidenceA429CutsTheBudgetMultiplicativelyAtMostOncePerWindow() {
    SlidingWindow window = new SlidingWindow("minute", 1_000, 0, 100, LEARNING);
    window.onRejected(0);
    window.onRejected(1);
    window.onRejected(2);
    assertThat(window.effective(3)).isEqualTo(80);
    window.onRejected(1_000);
    assertThat(window.effective(1_001)).isEqualTo(64);
  }

  @Test
  void aRestartThatForgotTheWindowCostsOneCutNotACollapse() {
    SlidingWindow window = new SlidingWindow("minute", 1_000, 0, 100, LEARNING);
    // the previous process spent this window: Plaid refuses everything the new one sends
    for (int i = 0; i < 100; i++) {
      window.record(0);
    }
    for (int i = 0; i < 100; i++) {
      window.onRejected(5 + i);
    }
    assertThat(window.effective(200)).isEqualTo(80);
  }

  @Test
  void aLimitHalfOfOursIsReachedWindowByWindow() {
    SlidingWindow window = new SlidingWindow("minute", 1_000, 0, 40, LEARNING);
    long now = 0;
    for (int round = 0; round < 6; round++) {
      int granted = 0;
      while (window.nextFree(now) <= now) {
        window.record(now);
        granted++;
      }
      for (int i = 20; i < granted; i++) {
        window.onRejected(now + 1);
      }
      now += 1_000;
    }
    assertThat(window.effective(now)).isEqualTo(20);
  }

  @Test
  void theBudgetNeverFallsBelowItsFloor() {
    SlidingWindow window = new SlidingWindow("minute", 1_000, 0, 100, LEARNING);
    for (int i = 0; i < 50; i++) {
      window.onRejected(i * 1_000L);
    }
    assertThat(window.effective(50_000)).isEqualTo(10);
  }

  @Test
  void afterAQuietPeriodTheBudgetClimbsBackOneStepPerWindowToTheConfiguredOne() {
    SlidingWindow window = new SlidingWindow("minute", 1_000, 0, 100, LEARNING);
    window.onRejected(0);
    assertThat(window.effective(9_999)).isEqualTo(80);
    assertThat(window.effective(10_000)).isEqualTo(85);
    assertThat(window.effective(11_000)).isEqualTo(90);
    assertThat(window.effective(13_500)).isEqualTo(100);
    assertThat(window.effective(60_000)).isEqualTo(100);
    assertThat(window.idle(60_000)).isTrue();
  }

  @Test
  void aNew429DuringRecoveryStartsFromTheRecoveredBudget() {
    SlidingWindow window = new SlidingWindow("minute", 1_000, 0, 100, LEARNING);
    window.onRejected(0);
    assertThat(window.effective(11_000)).isEqualTo(90);
    window.onRejected(11_000);
    assertThat(window.effective(11_001)).isEqualTo(72);
  }
}
