package com.mingus.reliability.bus;

import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * A user's notification preferences, the body of {@code notify.preferences.put} and the answer of both
 * preference commands.
 *
 * <p>{@code channels} maps a type wire name (or {@code "*"} for every type) to {@code {channel: on/off}};
 * a channel not mentioned keeps the type's default. Quiet hours are {@code HH:mm} in {@code timeZone}
 * (an IANA zone); both null means none. On put, a null {@code webhookSecret} with a webhook URL keeps the
 * stored secret or generates one; answers show the secret only right after it was generated or set
 * ({@code webhookSecret} is otherwise null and {@code webhookSecretSet} true). {@code webhookDisabled}
 * says why the endpoint was turned off (it answered 410), null while it is on; putting the URL again
 * turns it back on.
 */
public record NotifyPreferences(String userId, String timeZone, String quietHoursStart, String quietHoursEnd,
    JsonObject channels, String email, String phone, List<PushSubscription> pushSubscriptions, String webhookUrl,
    String webhookSecret, boolean webhookSecretSet, String webhookDisabled) implements BusMessage {

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("user_id", userId).put("time_zone", timeZone)
        .put("quiet_hours", quietHoursStart == null && quietHoursEnd == null ? null
            : new JsonObject().put("start", quietHoursStart).put("end", quietHoursEnd))
        .put("channels", channels == null ? new JsonObject() : channels)
        .put("email", email).put("phone", phone).put("push_subscriptions", Wire.array(pushSubscriptions))
        .put("webhook", new JsonObject().put("url", webhookUrl).put("secret", webhookSecret)
            .put("secret_set", webhookSecretSet).put("disabled", webhookDisabled));
  }

  public static NotifyPreferences fromJson(JsonObject json) {
    JsonObject quiet = json.getJsonObject("quiet_hours");
    JsonObject webhook = json.getJsonObject("webhook", new JsonObject());
    return new NotifyPreferences(json.getString("user_id"), json.getString("time_zone"),
        quiet == null ? null : quiet.getString("start"), quiet == null ? null : quiet.getString("end"),
        json.getJsonObject("channels"), json.getString("email"), json.getString("phone"),
        Wire.list(json.getJsonArray("push_subscriptions"), PushSubscription::fromJson), webhook.getString("url"),
        webhook.getString("secret"), webhook.getBoolean("secret_set", false), webhook.getString("disabled"));
  }
}
