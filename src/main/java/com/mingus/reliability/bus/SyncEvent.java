package com.mingus.reliability.bus;

import io.vertx.core.json.JsonObject;

/**
 * What sync scheduling publishes about a connection: registered, removed, a Plaid ITEM webhook, and each
 * sync's start, completion or failure. {@code kind} names which; fields that do not apply are null.
 *
 * @param status        for syncs, the seed's SyncStatus word (success, partial, failed, rate_limited, maintenance, retrying)
 * @param webhookCode   for item events, Plaid's webhook_code (LOGIN_REPAIRED, PENDING_EXPIRATION, ERROR, ...)
 * @param failure       the Plaid failure (PlaidFailure-shaped JSON) when a sync failed
 * @param classification the classifier's plan (Classification-shaped JSON) when a sync failed
 * @param detail        anything else worth carrying (consent_expiration_time, the webhook's error object)
 */
public record SyncEvent(
    String kind,
    String connectionId,
    String userId,
    String itemId,
    String institutionId,
    String institutionName,
    String syncId,
    String trigger,
    String status,
    String at,
    Long durationMs,
    Integer added,
    Integer modified,
    Integer removed,
    String nextSyncAt,
    String paused,
    String webhookCode,
    JsonObject failure,
    JsonObject classification,
    JsonObject detail) implements BusMessage {

  public static final String REGISTERED = "registered";
  public static final String REMOVED = "removed";
  public static final String ITEM = "item";
  public static final String STARTED = "started";
  public static final String COMPLETED = "completed";
  public static final String FAILED = "failed";

  @Override
  public JsonObject toJson() {
    JsonObject json = new JsonObject()
        .put("kind", kind)
        .put("connection_id", connectionId)
        .put("user_id", userId)
        .put("item_id", itemId)
        .put("institution_id", institutionId)
        .put("institution_name", institutionName);
    put(json, "sync_id", syncId);
    put(json, "trigger", trigger);
    put(json, "status", status);
    put(json, "at", at);
    put(json, "duration_ms", durationMs);
    put(json, "added", added);
    put(json, "modified", modified);
    put(json, "removed", removed);
    put(json, "next_sync_at", nextSyncAt);
    put(json, "paused", paused);
    put(json, "webhook_code", webhookCode);
    put(json, "failure", failure);
    put(json, "classification", classification);
    put(json, "detail", detail);
    return json;
  }

  public static SyncEvent fromJson(JsonObject json) {
    return new SyncEvent(json.getString("kind"), json.getString("connection_id"), json.getString("user_id"),
        json.getString("item_id"), json.getString("institution_id"), json.getString("institution_name"),
        json.getString("sync_id"), json.getString("trigger"), json.getString("status"), json.getString("at"),
        json.getLong("duration_ms"), json.getInteger("added"), json.getInteger("modified"),
        json.getInteger("removed"), json.getString("next_sync_at"), json.getString("paused"),
        json.getString("webhook_code"), json.getJsonObject("failure"), json.getJsonObject("classification"),
        json.getJsonObject("detail"));
  }

  private static void put(JsonObject json, String key, Object value) {
    if (value != null) {
      json.put(key, value);
    }
  }
}
