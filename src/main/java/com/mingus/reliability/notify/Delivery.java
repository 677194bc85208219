package com.mingus.reliability.notify;

import io.vertx.core.json.JsonObject;
import java.time.OffsetDateTime;

/** A claimed delivery with what its channel needs to send it, as read from the outbox. */
record Delivery(String id, String notificationId, String userId, String channel, String target, String idempotencyKey,
    String subject, String body, String bodyHtml, String priority, int attempt, String type, String connectionId,
    String title, String message, JsonObject data, OffsetDateTime createdAt) {}
