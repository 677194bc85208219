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

/**
 * Connection and institution health, asked of health tracking, which alone keeps it: this holds no health
 * state and derives none. Its answers (ConnectionHealth JSON as {@code bus.ConnectionHealth} writes it) are
 * relayed as they come; when health tracking does not answer (no handler, no answer in time) the request
 * fails {@code UNAVAILABLE}, which the API answers 503 and the feed tells its clients.
 */
final class HealthSource {
  static final String UNAVAILABLE = "Connection health is not available right now; try again shortly";

  private final Vertx vertx;
  private final long timeoutMs;
  /** When health tracking last answered one of this source's requests (System.nanoTime()). */
  private volatile long lastAnswerNanos;

  HealthSource(Vertx vertx, long timeoutMs) {
    this.vertx = vertx;
    this.timeoutMs = timeoutMs;
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
    return Bus.handOff(vertx, address, body, timeoutMs, timeoutMs, true)
        .onComplete(answer -> {
          if (answer.succeeded() || !absent(answer.cause())) {
            lastAnswerNanos = System.nanoTime();
          }
        })
        .map(HealthSource::json)
        .recover(failure -> Future.failedFuture(absent(failure) ? unavailable() : failure));
  }

  /** True when health tracking did not answer at all: nobody listening, or no answer in time. */
  static boolean absent(Throwable failure) {
    return failure instanceof Bus.BusException bus && bus.failure().infrastructure();
  }

  private static Bus.BusException unavailable() {
    return new Bus.BusException(new BusFailure(BusFailure.Kind.RECIPIENT_FAILURE, FailureCodes.UNAVAILABLE, UNAVAILABLE));
  }

  /**
   * Whether health tracking answers at all (its ping; a reply saying its database is down still counts). A
   * ping that times out while health answered other requests of ours meanwhile counts too: health is busy
   * (thousands of feed clients asking for snapshots), not gone; calling it gone would have every client ask
   * for a new snapshot, and keep it busier still.
   */
  Future<Boolean> answers(long pingTimeoutMs) {
    long asked = System.nanoTime();
    return Bus.request(vertx, Addresses.HEALTH_PING, new JsonObject(), pingTimeoutMs)
        .map(reply -> true)
        .otherwise(failure -> !absent(failure) || lastAnswerNanos - asked > 0);
  }

  /**
   * Every connection of the user (every connection when userId is null): health's answer, {connections,
   * total_connections, healthy_connections, degraded_connections, error_connections}.
   */
  Future<JsonObject> connections(String userId) {
    return ask(Addresses.HEALTH_CONNECTIONS, new JsonObject().put("user_id", userId));
  }

  /** One connection of the user (anyone's when userId is null); NOT_FOUND when it is not theirs. */
  Future<JsonObject> connection(String userId, String connectionId) {
    return ask(Addresses.HEALTH_CONNECTION, new JsonObject().put("user_id", userId).put("connection_id", connectionId));
  }

  Future<JsonObject> overview() {
    return ask(Addresses.HEALTH_OVERVIEW, new JsonObject());
  }

  /** One connection's reliability: the user's own (anyone's when userId is null). */
  Future<JsonObject> connectionMetrics(String userId, String connectionId) {
    return ask(Addresses.HEALTH_CONNECTION_METRICS,
        new JsonObject().put("user_id", userId).put("connection_id", connectionId));
  }

  /** Institutions and their circuits. */
  Future<JsonArray> institutions() {
    return ask(Addresses.HEALTH_INSTITUTIONS, new JsonObject())
        .map(reply -> reply.getJsonArray("institutions", new JsonArray()));
  }
}
