package com.mingus.reliability.bus;

import io.vertx.core.json.JsonObject;

/**
 * The body of {@code classify.outcome}: a Plaid call that succeeded, sent (not published) by its caller so
 * the retry budget counts it among the institution's requests. Failed calls need no report: classifying
 * them counts them.
 */
public record ClassifyOutcome(String institutionId, String endpoint, int attempt) implements BusMessage {

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("institution_id", institutionId).put("endpoint", endpoint).put("attempt", attempt);
  }

  /** Lenient: a missing or wrong attempt reads as 1. */
  public static ClassifyOutcome fromJson(JsonObject json) {
    Object attempt = json == null ? null : json.getValue("attempt");
    int n = attempt instanceof Number number && number.intValue() >= 1 ? number.intValue() : 1;
    Object institution = json == null ? null : json.getValue("institution_id");
    Object endpoint = json == null ? null : json.getValue("endpoint");
    return new ClassifyOutcome(institution instanceof String s ? s : null, endpoint instanceof String s ? s : null, n);
  }
}
