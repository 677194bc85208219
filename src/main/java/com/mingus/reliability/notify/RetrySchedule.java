package com.mingus.reliability.notify;

import com.mingus.reliability.bus.NotificationChannel;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.EnumMap;
import java.util.Map;

/**
 * Per channel, the delay before each attempt, in seconds, the first normally 0; the list's length is the
 * number of attempts before a delivery is dead-lettered. Webhooks default to the Standard Webhooks schedule.
 * {@code time_scale} multiplies every delay (tests run the real schedules a thousand times faster).
 */
final class RetrySchedule {
  static final JsonObject DEFAULTS = new JsonObject()
      .put("time_scale", 1.0)
      .put("email", new JsonArray().add(0).add(10).add(60).add(300).add(1800).add(7200))
      .put("in_app", new JsonArray().add(0).add(1).add(5).add(30))
      .put("push", new JsonArray().add(0).add(5).add(60).add(600).add(3600))
      .put("sms", new JsonArray().add(0).add(10).add(60).add(600).add(3600))
      .put("webhook", new JsonArray().add(0).add(5).add(300).add(1800).add(7200).add(18000).add(36000).add(36000));

  private final Map<NotificationChannel, double[]> delays = new EnumMap<>(NotificationChannel.class);
  private final double scale;

  RetrySchedule(JsonObject config) {
    JsonObject merged = DEFAULTS.copy().mergeIn(config == null ? new JsonObject() : config);
    this.scale = merged.getDouble("time_scale", 1.0);
    for (NotificationChannel channel : NotificationChannel.values()) {
      JsonArray list = merged.getJsonArray(channel.wire());
      double[] seconds = new double[list.size()];
      for (int i = 0; i < seconds.length; i++) {
        seconds[i] = ((Number) list.getValue(i)).doubleValue();
      }
      if (seconds.length == 0) {
        throw new IllegalArgumentException("notify.retry." + channel.wire() + " needs at least one attempt");
      }
      delays.put(channel, seconds);
    }
  }

  int maxAttempts(NotificationChannel channel) {
    return delays.get(channel).length;
  }

  /** The wait before attempt {@code attemptsDone + 1}, or -1 when the last attempt was made. */
  long delayMs(NotificationChannel channel, int attemptsDone) {
    double[] seconds = delays.get(channel);
    if (attemptsDone >= seconds.length) {
      return -1;
    }
    return Math.round(seconds[attemptsDone] * 1000 * scale);
  }

  double scale() {
    return scale;
  }
}
