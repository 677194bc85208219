package com.mingus.reliability.notify;

import com.mingus.reliability.bus.PushSubscription;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;

/**
 * PUSH as standard Web Push: the payload encrypted for the subscription (RFC 8291), VAPID-signed (RFC 8292),
 * POSTed to the subscription's endpoint through the {@link SsrfGuard}, since the endpoint came from a client.
 * The Topic header, derived from the idempotency key, lets the push service replace an undelivered copy.
 */
final class PushChannel {
  private final Vertx vertx;
  private final HttpClient client;
  private final SsrfGuard guard;
  private final WebPush.Vapid vapid;
  private final long ttlSeconds;
  private final long timeoutMs;

  PushChannel(Vertx vertx, HttpClient client, SsrfGuard guard, WebPush.Vapid vapid, long ttlSeconds, long timeoutMs) {
    this.vertx = vertx;
    this.client = client;
    this.guard = guard;
    this.vapid = vapid;
    this.ttlSeconds = ttlSeconds;
    this.timeoutMs = timeoutMs;
  }

  Future<SendOutcome> send(Delivery delivery, PushSubscription subscription) {
    if (subscription == null) {
      return Future.succeededFuture(SendOutcome.skipped("push_subscription_removed"));
    }
    byte[] payload = new JsonObject().put("notification_id", delivery.notificationId()).put("type", delivery.type())
        .put("priority", delivery.priority()).put("title", delivery.subject()).put("body", delivery.body())
        .put("connection_id", delivery.connectionId()).encode().getBytes(StandardCharsets.UTF_8);
    byte[] encrypted;
    try {
      encrypted = WebPush.encrypt(payload, subscription.p256dh(), subscription.auth());
    } catch (IllegalArgumentException e) {
      return Future.succeededFuture(SendOutcome.failed("bad subscription keys: " + e.getMessage()));
    }
    return guard.check(vertx, subscription.endpoint()).compose(target -> {
      MultiMap headers = MultiMap.caseInsensitiveMultiMap()
          .add("Content-Type", "application/octet-stream")
          .add("Content-Encoding", "aes128gcm")
          .add("TTL", Long.toString(ttlSeconds))
          .add("Urgency", urgency(delivery.priority()))
          .add("Topic", topic(delivery.idempotencyKey()))
          .add("Authorization", vapid.authorization(subscription.endpoint(), System.currentTimeMillis() / 1000, 12 * 3600));
      return HttpCalls.pinned(client, target, headers, Buffer.buffer(encrypted), timeoutMs)
          .map(answer -> SendOutcome.ofHttp(answer.status(), answer.headers().get("Location"),
              HttpCalls.snippet(answer.body()), answer.retryAfterMs(), true));
    }).recover(failure -> Future.succeededFuture(WebhookChannel.outcomeOf(failure)));
  }

  static String urgency(String priority) {
    return switch (priority == null ? "" : priority) {
      case "low" -> "low";
      case "high", "critical" -> "high";
      default -> "normal";
    };
  }

  /** 32 base64url characters, the most RFC 8030 allows in a Topic. */
  static String topic(String idempotencyKey) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(idempotencyKey.getBytes(StandardCharsets.UTF_8));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(Arrays.copyOf(digest, 24));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
