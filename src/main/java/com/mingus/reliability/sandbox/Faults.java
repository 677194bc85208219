package com.mingus.reliability.sandbox;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Injected faults: a Plaid error, added latency, or a transport failure (connection reset, a hang, a body
 * that is not JSON), scoped to an institution, an Item and/or an endpoint, with a probability drawn from
 * the seeded generator, a count and a lifetime.
 */
final class Faults {
  static final Set<String> TRANSPORTS = Set.of("reset", "hang", "garbage");

  static final class Rule {
    final String id;
    final String institutionId;
    final String itemId;
    final String endpoint;
    final String errorType;
    final String errorCode;
    final String errorMessage;
    final String displayMessage;
    final int httpStatus;
    final double probability;
    Integer remaining;
    final Long expiresAtMs;
    final long latencyMs;
    final String transport;
    long fired;

    Rule(String id, JsonObject spec, long nowMs) {
      JsonObject scope = spec.getJsonObject("scope", new JsonObject());
      this.id = id;
      this.institutionId = scope.getString("institution_id");
      this.itemId = scope.getString("item_id");
      this.endpoint = scope.getString("endpoint");
      this.errorType = spec.getString("error_type");
      this.errorCode = spec.getString("error_code");
      this.errorMessage = spec.getString("error_message");
      this.displayMessage = spec.getString("display_message");
      this.httpStatus = spec.getInteger("http_status",
          errorType == null ? 0 : PlaidFailure.statusFor(errorType, errorCode));
      this.probability = spec.getDouble("probability", 1.0);
      this.remaining = spec.getInteger("count");
      Long duration = spec.getLong("duration_ms");
      this.expiresAtMs = duration == null ? null : nowMs + duration;
      this.latencyMs = spec.getLong("latency_ms", 0L);
      this.transport = spec.getString("transport");
    }

    boolean error() {
      return errorType != null;
    }

    PlaidFailure failure() {
      String message = errorMessage != null ? errorMessage : "sandbox fault: " + errorCode.toLowerCase().replace('_', ' ');
      return new PlaidFailure(httpStatus, errorType, errorCode, message, displayMessage);
    }

    JsonObject toJson() {
      return new JsonObject().put("fault_id", id)
          .put("scope", new JsonObject().put("institution_id", institutionId).put("item_id", itemId).put("endpoint", endpoint))
          .put("error_type", errorType).put("error_code", errorCode).put("http_status", httpStatus == 0 ? null : httpStatus)
          .put("probability", probability).put("count", remaining).put("expires_at_ms", expiresAtMs)
          .put("latency_ms", latencyMs).put("transport", transport).put("fired", fired);
    }
  }

  private final List<Rule> rules = new ArrayList<>();
  private SplittableRandom random;
  private int nextId;

  Faults(long seed) {
    reset(seed);
  }

  void reset(long seed) {
    rules.clear();
    random = new SplittableRandom(seed ^ 0x5DEECE66DL);
  }

  /** Checks a fault specification; returns what is wrong with it, or null. */
  static String invalid(JsonObject spec) {
    Object scope = spec.getValue("scope");
    if (scope != null && !(scope instanceof JsonObject)) {
      return "scope must be an object with institution_id, item_id and/or endpoint";
    }
    String type = spec.getValue("error_type") instanceof String s ? s : null;
    String code = spec.getValue("error_code") instanceof String s ? s : null;
    String transport = spec.getValue("transport") instanceof String s ? s : null;
    if ((type == null) != (code == null)) {
      return "error_type and error_code go together";
    }
    if (spec.getValue("transport") != null && (transport == null || !TRANSPORTS.contains(transport))) {
      return "transport must be one of reset, hang, garbage";
    }
    if (type == null && transport == null && !(spec.getValue("latency_ms") instanceof Number)) {
      return "a fault needs error_type and error_code, a transport or latency_ms";
    }
    for (String key : List.of("http_status", "count", "duration_ms", "latency_ms")) {
      Object value = spec.getValue(key);
      if (value != null && (!(value instanceof Number n) || n.longValue() < 0)) {
        return key + " must be a non-negative number";
      }
    }
    Object probability = spec.getValue("probability");
    if (probability != null && (!(probability instanceof Number n) || n.doubleValue() < 0 || n.doubleValue() > 1)) {
      return "probability must be between 0 and 1";
    }
    return null;
  }

  Rule add(JsonObject spec, long nowMs) {
    Rule rule = new Rule("fault-" + (++nextId), spec, nowMs);
    rules.add(rule);
    return rule;
  }

  boolean remove(String id) {
    return rules.removeIf(rule -> rule.id.equals(id));
  }

  void clear() {
    rules.clear();
  }

  /** The first live rule that matches and whose probability draw says yes; its count is used up. */
  Rule match(String endpoint, String itemId, String institutionId, long nowMs) {
    Iterator<Rule> it = rules.iterator();
    while (it.hasNext()) {
      Rule rule = it.next();
      if ((rule.expiresAtMs != null && nowMs >= rule.expiresAtMs) || (rule.remaining != null && rule.remaining <= 0)) {
        it.remove();
        continue;
      }
      if ((rule.endpoint != null && !rule.endpoint.equals(endpoint))
          || (rule.itemId != null && !rule.itemId.equals(itemId))
          || (rule.institutionId != null && !rule.institutionId.equals(institutionId))) {
        continue;
      }
      // a bank's trouble hits the calls about its Items; calls about the bank itself (its status) keep
      // working unless the fault names that endpoint too
      if (rule.institutionId != null && itemId == null && rule.endpoint == null) {
        continue;
      }
      if (rule.probability < 1.0 && random.nextDouble() >= rule.probability) {
        continue;
      }
      if (rule.remaining != null) {
        rule.remaining--;
      }
      rule.fired++;
      return rule;
    }
    return null;
  }

  /** True while a live fault is scoped to this institution (its status then shows DEGRADED). */
  boolean affects(String institutionId, long nowMs) {
    for (Rule rule : rules) {
      boolean live = (rule.expiresAtMs == null || nowMs < rule.expiresAtMs) && (rule.remaining == null || rule.remaining > 0);
      if (live && institutionId.equals(rule.institutionId)) {
        return true;
      }
    }
    return false;
  }

  JsonArray toJson() {
    JsonArray out = new JsonArray();
    rules.forEach(rule -> out.add(rule.toJson()));
    return out;
  }
}
