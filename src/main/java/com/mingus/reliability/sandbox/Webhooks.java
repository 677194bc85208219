package com.mingus.reliability.sandbox;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers webhooks the way Plaid does: a signed JSON POST; anything but a 200 within the timeout (10 s)
 * is a failure, retried after 30 s and then four times longer each time, for up to 24 hours. A time
 * scale shrinks that schedule for tests (0.001 turns 30 s into 30 ms).
 */
final class Webhooks {
  private static final Logger log = LoggerFactory.getLogger(Webhooks.class);
  private static final long FIRST_RETRY_MS = 30_000;
  private static final long GIVE_UP_AFTER_MS = 24 * 3_600_000L;
  private static final int KEPT = 1_000;

  /** One webhook and its delivery attempts, kept for the control surface. */
  static final class Delivery {
    final String id;
    final String itemId;
    final String code;
    final String url;
    final Buffer body;
    final long firstAttemptMs;
    final List<JsonObject> attempts = new ArrayList<>();
    String state = "pending";

    Delivery(String id, String itemId, String code, String url, Buffer body, long firstAttemptMs) {
      this.id = id;
      this.itemId = itemId;
      this.code = code;
      this.url = url;
      this.body = body;
      this.firstAttemptMs = firstAttemptMs;
    }

    JsonObject toJson() {
      return new JsonObject().put("webhook_id", id).put("item_id", itemId).put("webhook_code", code).put("url", url)
          .put("state", state).put("body", new JsonObject(body)).put("attempts", new JsonArray(new ArrayList<>(attempts)));
    }
  }

  private final Vertx vertx;
  private final WebClient client;
  private final WebhookSigner signer;
  private final Deque<Delivery> deliveries = new ArrayDeque<>();
  private final Set<Long> timers = new HashSet<>();
  private double timeScale;
  private long timeoutMs;
  private int sent;

  Webhooks(Vertx vertx, WebClient client, WebhookSigner signer, double timeScale, long timeoutMs) {
    this.vertx = vertx;
    this.client = client;
    this.signer = signer;
    this.timeScale = timeScale;
    this.timeoutMs = timeoutMs;
  }

  void settings(Double timeScale, Long timeoutMs) {
    if (timeScale != null) {
      this.timeScale = timeScale;
    }
    if (timeoutMs != null) {
      this.timeoutMs = timeoutMs;
    }
  }

  JsonObject settingsJson() {
    return new JsonObject().put("time_scale", timeScale).put("timeout_ms", timeoutMs);
  }

  /** Sends a webhook about an Item to the Item's webhook URL, if it has one and has not been removed. */
  void send(Item item, JsonObject payload) {
    if (item.removed || item.webhook == null || item.webhook.isBlank()) {
      return;
    }
    payload.put("environment", "sandbox");
    long now = System.currentTimeMillis();
    item.lastWebhookSentAt = Instant.ofEpochMilli(now);
    item.lastWebhookCode = payload.getString("webhook_code");
    Delivery delivery = new Delivery("wh-" + (++sent), item.id, payload.getString("webhook_code"), item.webhook,
        payload.toBuffer(), now);
    deliveries.addLast(delivery);
    while (deliveries.size() > KEPT) {
      deliveries.removeFirst();
    }
    attempt(delivery);
  }

  private void attempt(Delivery delivery) {
    long started = System.currentTimeMillis();
    JsonObject record = new JsonObject().put("at", Instant.ofEpochMilli(started).toString());
    delivery.attempts.add(record);
    String jwt = signer.sign(delivery.body.getBytes(), started / 1000);
    try {
      client.postAbs(delivery.url)
          .putHeader("Content-Type", "application/json")
          .putHeader("Plaid-Verification", jwt)
          .timeout(timeoutMs)
          .sendBuffer(delivery.body)
          .onComplete(result -> {
            if (result.succeeded() && result.result().statusCode() == 200) {
              record.put("status", 200);
              delivery.state = "delivered";
            } else {
              if (result.succeeded()) {
                record.put("status", result.result().statusCode());
              } else {
                record.put("error", String.valueOf(result.cause().getMessage()));
              }
              retryLater(delivery);
            }
          });
    } catch (RuntimeException e) {
      // a URL the client cannot even parse will not get better with time
      record.put("error", String.valueOf(e.getMessage()));
      delivery.state = "failed";
      log.warn("Webhook {} for Item {} has an unusable URL: {}", delivery.code, delivery.itemId, e.getMessage());
    }
  }

  private void retryLater(Delivery delivery) {
    int failures = delivery.attempts.size();
    double delay = FIRST_RETRY_MS * Math.pow(4, failures - 1) * timeScale;
    double elapsed = System.currentTimeMillis() - delivery.firstAttemptMs;
    if (elapsed + delay > GIVE_UP_AFTER_MS * timeScale) {
      delivery.state = "failed";
      log.info("Webhook {} for Item {} given up after {} attempts", delivery.code, delivery.itemId, failures);
      return;
    }
    long[] id = new long[1];
    id[0] = vertx.setTimer(Math.max(1, Math.round(delay)), tick -> {
      timers.remove(id[0]);
      attempt(delivery);
    });
    timers.add(id[0]);
  }

  /** Stops every pending redelivery and forgets the history (control reset). */
  void reset() {
    timers.forEach(vertx::cancelTimer);
    timers.clear();
    deliveries.clear();
  }

  JsonArray toJson(String itemId) {
    JsonArray out = new JsonArray();
    for (Delivery delivery : deliveries) {
      if (itemId == null || itemId.equals(delivery.itemId)) {
        out.add(delivery.toJson());
      }
    }
    return out;
  }

  String kid() {
    return signer.kid;
  }

  JsonObject jwk() {
    return signer.jwk();
  }
}
