package com.mingus.reliability.sandbox;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;

/**
 * The sandbox's state and the Plaid behaviours that cut across endpoints (webhooks on change, Item error
 * states). One instance per verticle, used from its event loop only.
 */
final class Sandbox {
  final JsonObject config;
  final Faults faults;
  final RateLimits limits;
  final Stats stats = new Stats();
  final Webhooks webhooks;
  World world;

  private final Vertx vertx;

  Sandbox(Vertx vertx, JsonObject config, Webhooks webhooks) {
    this.vertx = vertx;
    this.config = config;
    long seed = config.getLong("seed", 42L);
    this.world = new World(seed, today(config), Instant.now());
    this.faults = new Faults(seed);
    this.limits = new RateLimits(config.getJsonObject("rate_limits", new JsonObject()), windowMs(config));
    limits.sliding("sliding".equals(config.getString("rate_limit_window_kind", "fixed")));
    this.webhooks = webhooks;
  }

  static long windowMs(JsonObject config) {
    return config.getLong("rate_limit_window_ms", 60_000L);
  }

  private static LocalDate today(JsonObject config) {
    String today = config.getString("today");
    return today == null || today.isBlank() ? null : LocalDate.parse(today);
  }

  /** Back to the state a fresh start with this seed has: institutions only, no faults, configured limits. */
  void reset(long seed) {
    world = new World(seed, today(config), Instant.now());
    faults.reset(seed);
    limits.reset(config.getJsonObject("rate_limits", new JsonObject()), windowMs(config));
    limits.sliding("sliding".equals(config.getString("rate_limit_window_kind", "fixed")));
    stats.clear();
    webhooks.reset();
  }

  LocalDate today() {
    return world.today;
  }

  /**
   * After a change to an Item's transactions: SYNC_UPDATES_AVAILABLE once the Item has been synced at least
   * once, as at Plaid; for an Item with legacy webhooks also DEFAULT_UPDATE (new or changed transactions)
   * and TRANSACTIONS_REMOVED (with the removed ids), which Plaid sends whether or not sync was called.
   */
  void changed(Item item, Item.Mutation mutation) {
    item.lastSuccessfulUpdate = Instant.now();
    if (!mutation.empty() && item.syncCalled) {
      syncUpdatesAvailable(item);
    }
    if (item.legacyWebhooks) {
      if (!mutation.added().isEmpty() || !mutation.modified().isEmpty()) {
        webhooks.send(item, new JsonObject()
            .put("webhook_type", "TRANSACTIONS")
            .put("webhook_code", "DEFAULT_UPDATE")
            .put("item_id", item.id)
            .putNull("error")
            .put("new_transactions", mutation.added().size()));
      }
      if (!mutation.removed().isEmpty()) {
        webhooks.send(item, new JsonObject()
            .put("webhook_type", "TRANSACTIONS")
            .put("webhook_code", "TRANSACTIONS_REMOVED")
            .put("item_id", item.id)
            .putNull("error")
            .put("removed_transactions", new io.vertx.core.json.JsonArray(mutation.removed())));
      }
    }
  }

  /**
   * The Item's initial pull is done: the legacy INITIAL_UPDATE (the last 30 days) and HISTORICAL_UPDATE
   * (the whole history) for an Item with legacy webhooks, and SYNC_UPDATES_AVAILABLE if sync was already
   * called (only possible when the pull took a while, see {@link #readyLater}).
   */
  void initialPullDone(Item item) {
    if (item.syncCalled) {
      syncUpdatesAvailable(item);
    }
    if (item.legacyWebhooks) {
      webhooks.send(item, new JsonObject()
          .put("webhook_type", "TRANSACTIONS")
          .put("webhook_code", "INITIAL_UPDATE")
          .put("item_id", item.id)
          .putNull("error")
          .put("new_transactions", item.transactionsSince(today().minusDays(30))));
      webhooks.send(item, new JsonObject()
          .put("webhook_type", "TRANSACTIONS")
          .put("webhook_code", "HISTORICAL_UPDATE")
          .put("item_id", item.id)
          .putNull("error")
          .put("new_transactions", item.transactionCount()));
    }
  }

  void syncUpdatesAvailable(Item item) {
    webhooks.send(item, new JsonObject()
        .put("webhook_type", "TRANSACTIONS")
        .put("webhook_code", "SYNC_UPDATES_AVAILABLE")
        .put("item_id", item.id)
        .put("initial_update_complete", true)
        .put("historical_update_complete", true));
  }

  /** The Item needs its user in Link update mode; every data call fails until the login is repaired. */
  void requireLogin(Item item) {
    item.error = PlaidFailure.itemLoginRequired();
    itemError(item);
  }

  private void itemError(Item item) {
    webhooks.send(item, new JsonObject()
        .put("webhook_type", "ITEM")
        .put("webhook_code", "ERROR")
        .put("item_id", item.id)
        .put("error", item.error.toWebhookError()));
  }

  /** Returns false when the Item had no error to repair. */
  boolean repairLogin(Item item) {
    if (item.error == null) {
      return false;
    }
    item.error = null;
    // update mode renews consent that had run out
    if (item.consentExpirationTime != null && !Instant.parse(item.consentExpirationTime).isAfter(Instant.now())) {
      item.consentExpirationTime = null;
    }
    webhooks.send(item, new JsonObject()
        .put("webhook_type", "ITEM")
        .put("webhook_code", "LOGIN_REPAIRED")
        .put("item_id", item.id));
    return true;
  }

  /**
   * Sets the Item's consent expiry and warns of it (PENDING_EXPIRATION). When the time comes and the
   * consent was not renewed meanwhile, the Item needs its user again, as at Plaid: ITEM_LOGIN_REQUIRED and
   * ITEM/ERROR.
   */
  void pendingExpiration(Item item, Instant expiresAt) {
    String at = expiresAt.truncatedTo(ChronoUnit.SECONDS).toString();
    item.consentExpirationTime = at;
    webhooks.send(item, new JsonObject()
        .put("webhook_type", "ITEM")
        .put("webhook_code", "PENDING_EXPIRATION")
        .put("item_id", item.id)
        .put("consent_expiration_time", at));
    World owner = world;
    long delay = Instant.parse(at).toEpochMilli() - System.currentTimeMillis();
    vertx.setTimer(Math.max(1, delay), tick -> {
      if (world == owner && !item.removed && item.error == null && at.equals(item.consentExpirationTime)) {
        item.error = PlaidFailure.itemLoginRequired();
        itemError(item);
      }
    });
  }

  /**
   * Makes the Item's initial pull take {@code delayMs}: until then /transactions/sync answers NOT_READY;
   * then, if it was already called, SYNC_UPDATES_AVAILABLE says the data are there.
   */
  void readyLater(Item item, long delayMs) {
    item.readyAtMs = System.currentTimeMillis() + delayMs;
    World owner = world;
    vertx.setTimer(delayMs, tick -> {
      if (world == owner && !item.removed) {
        initialPullDone(item);
      }
    });
  }
}
