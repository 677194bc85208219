package com.mingus.reliability.http;

import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.BusFailure;
import com.mingus.reliability.bus.BusMessage;
import com.mingus.reliability.bus.FailureCodes;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Connection and institution health, asked of the health tracking verticle. While no health tracking
 * answers (a node started without it, or an older build), a view derived from sync's registry stands in,
 * so the API and the feed keep answering with what is known: {@link #derived(JsonObject)}.
 */
final class HealthSource {
  private static final String HEALTH_CONNECTIONS = Addresses.HEALTH_CONNECTIONS;
  private static final String HEALTH_CONNECTION = Addresses.HEALTH_CONNECTION;
  private static final String HEALTH_OVERVIEW = Addresses.HEALTH_OVERVIEW;
  private static final String HEALTH_CONNECTION_METRICS = Addresses.HEALTH_CONNECTION_METRICS;
  private static final String HEALTH_INSTITUTIONS = Addresses.HEALTH_INSTITUTIONS;

  private final Vertx vertx;
  private final long timeoutMs;
  private final long cacheTtlMs;
  private final int cacheMax;
  /**
   * The latest health of connections asked for recently, kept current by health.changed (which carries
   * every change, coalesced), so a hot GET of one connection's health is answered without a bus round trip
   * and a database read. Entries older than the TTL are asked again, bounding staleness if an event is lost.
   */
  private final java.util.LinkedHashMap<String, Cached> cache;

  private record Cached(JsonObject connection, long atMs) {}

  HealthSource(Vertx vertx, long timeoutMs, long cacheTtlMs, int cacheMax) {
    this.vertx = vertx;
    this.timeoutMs = timeoutMs;
    this.cacheTtlMs = cacheTtlMs;
    this.cacheMax = cacheMax;
    this.cache = new java.util.LinkedHashMap<>(1024, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Cached> eldest) {
        return size() > HealthSource.this.cacheMax;
      }
    };
  }

  /** A change from health tracking: the cached view (if any) is replaced; a removed connection is dropped. */
  void changed(JsonObject connection) {
    String id = connection.getString("connection_id");
    if (id == null || cacheTtlMs <= 0) {
      return;
    }
    if (connection.getValue("user_id") == null || "disconnected".equals(connection.getString("status"))) {
      cache.remove(id);
    } else if (cache.containsKey(id)) {
      cache.put(id, new Cached(connection, System.currentTimeMillis()));
    }
  }

  void removed(String connectionId) {
    if (connectionId != null) {
      cache.remove(connectionId);
    }
  }

  private void remember(JsonObject connection) {
    String id = connection.getString("connection_id");
    if (cacheTtlMs > 0 && id != null && connection.getValue("user_id") != null
        && !"disconnected".equals(connection.getString("status")) && !"sync".equals(connection.getString("source"))) {
      cache.put(id, new Cached(connection, System.currentTimeMillis()));
    }
  }

  static JsonObject json(Object body) {
    if (body instanceof JsonObject json) {
      return json;
    }
    if (body instanceof BusMessage message) {
      return message.toJson();
    }
    return new JsonObject();
  }

  private Future<JsonObject> ask(String address, JsonObject body) {
    return Bus.handOff(vertx, address, body, timeoutMs, timeoutMs, true).map(HealthSource::json);
  }

  private static boolean absent(Throwable failure) {
    return failure instanceof Bus.BusException bus && bus.failure().kind() == BusFailure.Kind.NO_HANDLERS;
  }

  private static boolean notFound(Throwable failure) {
    return failure instanceof Bus.BusException bus && !bus.failure().infrastructure()
        && bus.failure().code() == FailureCodes.NOT_FOUND;
  }

  /** Every connection of the user (every connection when userId is null), health fields included. */
  Future<List<JsonObject>> connections(String userId) {
    JsonObject body = new JsonObject().put("user_id", userId);
    return ask(HEALTH_CONNECTIONS, body)
        .map(reply -> list(reply.getJsonArray("connections", new JsonArray())))
        .recover(failure -> absent(failure) ? fromSync(userId) : Future.failedFuture(failure));
  }

  /** One connection of the user (anyone's when userId is null); NOT_FOUND when it is not theirs. */
  Future<JsonObject> connection(String userId, String connectionId) {
    Cached cached = cache.get(connectionId);
    if (cached != null && System.currentTimeMillis() - cached.atMs() < cacheTtlMs
        && (userId == null || userId.equals(cached.connection().getString("user_id")))) {
      return Future.succeededFuture(cached.connection());
    }
    JsonObject body = new JsonObject().put("user_id", userId).put("connection_id", connectionId);
    // health learns of a new connection from an event, so just after registration it may not know it
    // yet; sync's registry is the truth about whether the connection exists and whose it is
    return ask(HEALTH_CONNECTION, body)
        .map(reply -> reply.containsKey("connection") ? reply.getJsonObject("connection") : reply)
        .onSuccess(this::remember)
        .recover(failure -> absent(failure) || notFound(failure)
            ? Bus.<Object>request(vertx, Addresses.SYNC_STATUS, body, timeoutMs).map(reply -> derived(json(reply).getJsonObject("connection")))
            : Future.failedFuture(failure));
  }

  Future<JsonObject> overview() {
    return ask(HEALTH_OVERVIEW, new JsonObject())
        .recover(failure -> absent(failure) ? fromSync(null).map(HealthSource::overviewOf) : Future.failedFuture(failure));
  }

  /** One connection's reliability: the user's own (anyone's when userId is null). */
  Future<JsonObject> connectionMetrics(String userId, String connectionId) {
    JsonObject body = new JsonObject().put("user_id", userId).put("connection_id", connectionId);
    return ask(HEALTH_CONNECTION_METRICS, body)
        .recover(failure -> absent(failure)
            ? Bus.<Object>request(vertx, Addresses.SYNC_STATUS, body, timeoutMs).map(reply -> {
              JsonObject status = json(reply);
              return new JsonObject().put("connection", derived(status.getJsonObject("connection")))
                  .put("reliability_stats", status.getJsonObject("reliability_stats"))
                  .put("sync_logs", status.getJsonArray("sync_logs"));
            })
            : Future.failedFuture(failure));
  }

  /** Institutions and their circuits. */
  Future<JsonArray> institutions() {
    return ask(HEALTH_INSTITUTIONS, new JsonObject())
        .map(reply -> reply.getJsonArray("institutions", new JsonArray()))
        .recover(failure -> absent(failure) ? fromSync(null).map(HealthSource::institutionsOf) : Future.failedFuture(failure));
  }

  private Future<List<JsonObject>> fromSync(String userId) {
    return Bus.<Object>request(vertx, Addresses.SYNC_CONNECTIONS, new JsonObject().put("user_id", userId), timeoutMs)
        .map(reply -> {
          List<JsonObject> out = new ArrayList<>();
          for (JsonObject view : list(json(reply).getJsonArray("connections", new JsonArray()))) {
            out.add(derived(view));
          }
          return out;
        });
  }

  /** The seed's ConnectionHealth from sync's registry view alone (no error detail is known there). */
  static JsonObject derived(JsonObject view) {
    if (view == null) {
      throw new Bus.BusException(new BusFailure(BusFailure.Kind.RECIPIENT_FAILURE, FailureCodes.NOT_FOUND, "no such connection"));
    }
    String paused = view.getString("paused");
    int attempt = view.getInteger("attempt", 0);
    boolean institutionPaused = view.getBoolean("institution_paused", false);
    String status;
    if ("needs_user".equals(paused)) {
      status = "requires_reauth";
    } else if ("stopped".equals(paused)) {
      status = "disconnected";
    } else if (institutionPaused) {
      status = "maintenance";
    } else if (attempt >= 3) {
      status = "error";
    } else if (attempt > 0) {
      status = "degraded";
    } else {
      status = "active";
    }
    return new JsonObject()
        .put("connection_id", view.getString("connection_id"))
        .put("user_id", view.getString("user_id"))
        .put("item_id", view.getString("item_id"))
        .put("institution_id", view.getString("institution_id"))
        .put("institution_name", view.getString("institution_name"))
        .put("status", status)
        .put("last_successful_sync", view.getString("last_successful_sync"))
        .putNull("last_error")
        .put("sync_failure_count", attempt)
        .put("consecutive_failures", attempt)
        .put("maintenance_mode", "maintenance".equals(status))
        .putNull("maintenance_until")
        .put("retry_attempts", view.getInteger("retry_count", 0))
        .put("next_retry", attempt > 0 ? view.getString("next_sync_at") : null)
        .put("requires_reauth", "requires_reauth".equals(status))
        .put("syncing", view.getBoolean("syncing", false))
        .put("source", "sync");
  }

  /** The seed's overall reliability metrics computed from connection healths. */
  static JsonObject overviewOf(List<JsonObject> connections) {
    int total = connections.size();
    int active = 0;
    int errors = 0;
    int maintenance = 0;
    int reauth = 0;
    for (JsonObject c : connections) {
      switch (c.getString("status", "error")) {
        case "active" -> active++;
        case "maintenance" -> maintenance++;
        case "requires_reauth", "pending_expiration" -> reauth++;
        case "error", "disconnected" -> errors++;
        default -> { }
      }
    }
    double healthRate = total == 0 ? 100.0 : Math.round(active * 10000.0 / total) / 100.0;
    return new JsonObject()
        .put("connections", new JsonObject().put("total", total).put("active", active).put("with_errors", errors)
            .put("in_maintenance", maintenance).put("require_reauth", reauth).put("health_rate", healthRate))
        .put("sync", new JsonObject())
        .put("reliability_score", healthRate);
  }

  static JsonArray institutionsOf(List<JsonObject> connections) {
    Map<String, JsonObject> byId = new LinkedHashMap<>();
    for (JsonObject c : connections) {
      String id = c.getString("institution_id");
      if (id == null) {
        continue;
      }
      JsonObject institution = byId.computeIfAbsent(id, key -> new JsonObject().put("institution_id", key)
          .put("name", c.getString("institution_name")).put("connections", 0).put("failing", 0)
          .put("circuit", "closed").put("status", "healthy"));
      institution.put("connections", institution.getInteger("connections") + 1);
      if (!"active".equals(c.getString("status"))) {
        institution.put("failing", institution.getInteger("failing") + 1);
      }
      if ("maintenance".equals(c.getString("status"))) {
        institution.put("status", "maintenance").put("circuit", "open");
      }
    }
    return new JsonArray(new ArrayList<>(byId.values()));
  }

  static List<JsonObject> list(JsonArray array) {
    List<JsonObject> out = new ArrayList<>(array.size());
    for (int i = 0; i < array.size(); i++) {
      Object item = array.getValue(i);
      if (item instanceof JsonObject json) {
        out.add(json);
      }
    }
    return out;
  }

  /** The seed's summary of a list: total, healthy (active), degraded and error counts. */
  static JsonObject summary(List<JsonObject> connections) {
    int healthy = 0;
    int degraded = 0;
    int errors = 0;
    for (JsonObject c : connections) {
      switch (c.getString("status", "error")) {
        case "active" -> healthy++;
        case "degraded", "rate_limited", "maintenance", "pending_expiration" -> degraded++;
        default -> errors++;
      }
    }
    return new JsonObject().put("total_connections", connections.size()).put("healthy_connections", healthy)
        .put("degraded_connections", degraded).put("error_connections", errors);
  }
}
