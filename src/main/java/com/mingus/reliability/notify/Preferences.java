package com.mingus.reliability.notify;

import com.mingus.reliability.bus.NotificationChannel;
import com.mingus.reliability.bus.NotificationType;
import com.mingus.reliability.bus.PushSubscription;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.List;

/** A user's stored preferences, and the two decisions made from them: which channels, and when. */
record Preferences(String userId, ZoneId zone, LocalTime quietStart, LocalTime quietEnd, JsonObject channels,
    String email, String phone, List<PushSubscription> push, String webhookUrl, String webhookSecret,
    String webhookDisabled) {

  static Preferences defaults(String userId) {
    return new Preferences(userId, ZoneId.of("UTC"), null, null, new JsonObject(), null, null, List.of(), null, null,
        null);
  }

  /** The user's choice for this type and channel: the type's own entry, then {@code "*"}, then the default. */
  boolean enabled(NotificationType type, NotificationChannel channel, boolean byDefault) {
    Boolean specific = choice(type.wire(), channel);
    if (specific != null) {
      return specific;
    }
    Boolean all = choice("*", channel);
    return all != null ? all : byDefault;
  }

  private Boolean choice(String key, NotificationChannel channel) {
    Object entry = channels == null ? null : channels.getValue(key);
    if (entry instanceof JsonObject map && map.getValue(channel.wire()) instanceof Boolean on) {
      return on;
    }
    return null;
  }

  /** When the quiet hours around {@code now} end, or null when {@code now} is not inside them. */
  Instant quietUntil(Instant now) {
    if (quietStart == null || quietEnd == null || quietStart.equals(quietEnd)) {
      return null;
    }
    ZonedDateTime local = now.atZone(zone);
    LocalTime time = local.toLocalTime();
    LocalDate today = local.toLocalDate();
    if (quietStart.isBefore(quietEnd)) {
      return !time.isBefore(quietStart) && time.isBefore(quietEnd) ? ZonedDateTime.of(today, quietEnd, zone).toInstant() : null;
    }
    if (!time.isBefore(quietStart)) {
      return ZonedDateTime.of(today.plusDays(1), quietEnd, zone).toInstant();
    }
    if (time.isBefore(quietEnd)) {
      return ZonedDateTime.of(today, quietEnd, zone).toInstant();
    }
    return null;
  }

  PushSubscription subscription(String endpoint) {
    return push.stream().filter(s -> s.endpoint().equals(endpoint)).findFirst().orElse(null);
  }
}
