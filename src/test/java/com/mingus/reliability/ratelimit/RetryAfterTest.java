package com.mingus.reliability.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class RetryAfterTest {
  private static final long NOW = Instant.parse("2026-11-29T08:00:00Z").toEpochMilli();

  @Test
  void secondsBecomeMilliseconds() {
    assertThat(RateLimitVerticle.retryAfterMs("30", NOW)).isEqualTo(30_000);
    assertThat(RateLimitVerticle.retryAfterMs(" 0 ", NOW)).isZero();
  }

  @Test
  void anHttpDateBecomesTheTimeLeftUntilIt() {
    assertThat(RateLimitVerticle.retryAfterMs("Sun, 29 Nov 2026 08:01:30 GMT", NOW)).isEqualTo(90_000);
    assertThat(RateLimitVerticle.retryAfterMs("Sun, 29 Nov 2026 07:59:00 GMT", NOW)).isZero();
  }

  @Test
  void absentOrUnreadableFallsBackToTheConfiguredCoolDown() {
    assertThat(RateLimitVerticle.retryAfterMs(null, NOW)).isEqualTo(-1);
    assertThat(RateLimitVerticle.retryAfterMs("soon", NOW)).isEqualTo(-1);
    assertThat(RateLimitVerticle.retryAfterMs("-5", NOW)).isEqualTo(-1);
  }
}
