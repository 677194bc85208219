package com.mingus.reliability.notify;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonObject;

/**
 * WEBHOOK per the Standard Webhooks specification: {@code {"type","timestamp","data"}} POSTed with
 * webhook-id (the idempotency key, the same on every retry), webhook-timestamp and webhook-signature, only
 * to an address the {@link SsrfGuard} accepted after resolving the name; no redirect is followed. A 410
 * turns the endpoint off ({@link SendOutcome.Kind#GONE}).
 */
final class WebhookChannel {
  private final Vertx vertx;
  private final HttpClient client;
  private final SsrfGuard guard;
  private final long timeoutMs;

  WebhookChannel(Vertx vertx, HttpClient client, SsrfGuard guard, long timeoutMs) {
    this.vertx = vertx;
    this.client = client;
    this.guard = guard;
    this.timeoutMs = timeoutMs;
  }

  /** The body: the same bytes on every attempt, built only from what the outbox stored. */
  static String payload(Delivery delivery) {
    return new JsonObject()
        // an operator alert's type is already namespaced (operator.circuit_open, ...)
        .put("type", delivery.type().startsWith("operator.") ? delivery.type() : "notification." + delivery.type())
        .put("timestamp", delivery.createdAt().toInstant().toString())
        .put("data", new JsonObject().put("notification_id", delivery.notificationId())
            .put("user_id", delivery.userId()).put("type", delivery.type()).put("priority", delivery.priority())
            .put("title", delivery.title()).put("message", delivery.message())
            .put("connection_id", delivery.connectionId()).put("data", delivery.data()))
        .encode();
  }

  Future<SendOutcome> send(Delivery delivery, String secret) {
    if (secret == null) {
      return Future.succeededFuture(SendOutcome.skipped("no_webhook_secret"));
    }
    String body = payload(delivery);
    return guard.check(vertx, delivery.target()).compose(target -> {
      long timestamp = System.currentTimeMillis() / 1000;
      MultiMap headers = MultiMap.caseInsensitiveMultiMap()
          .add("Content-Type", "application/json")
          .add("User-Agent", "MINGUS-Webhooks/1")
          .add("webhook-id", delivery.idempotencyKey())
          .add("webhook-timestamp", Long.toString(timestamp))
          .add("webhook-signature", StandardWebhooks.sign(secret, delivery.idempotencyKey(), timestamp, body));
      return HttpCalls.pinned(client, target, headers, Buffer.buffer(body), timeoutMs)
          .map(answer -> answer.status() >= 300 && answer.status() < 400
              ? SendOutcome.retry("HTTP " + answer.status() + ": redirects are not followed")
              : SendOutcome.ofHttp(answer.status(), delivery.idempotencyKey(), HttpCalls.snippet(answer.body()),
                  answer.retryAfterMs(), false))
          .map(outcome -> outcome.kind() == SendOutcome.Kind.FAILED
              // Standard Webhooks retries every failure but a 410; only the refusals above are final
              ? SendOutcome.retry(outcome.error()) : outcome);
    }).recover(failure -> Future.succeededFuture(outcomeOf(failure)));
  }

  /** A refused address is final; anything else on the way (DNS, connect, timeout) is worth a retry. */
  static SendOutcome outcomeOf(Throwable failure) {
    if (failure instanceof SsrfGuard.Refused refused) {
      return SendOutcome.failed("refused: " + refused.getMessage());
    }
    return SendOutcome.retry(EmailChannel.oneLine(failure.getMessage()));
  }
}
