package com.mingus.reliability.bus;

import io.vertx.core.json.JsonObject;

/**
 * Answer to {@code ratelimit.report}: which scope the 429 was charged to ({@code client}, {@code item}, or
 * {@code none} for codes that are not a request budget, such as {@code CREDITS_EXHAUSTED}), until when
 * that scope is closed (epoch ms), and its effective per-window budget after learning.
 */
public record RateLimitReportReply(String scope, long coolingUntil, int effectiveBudget) implements BusMessage {

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("scope", scope).put("cooling_until", coolingUntil)
        .put("effective_budget", effectiveBudget);
  }

  public static RateLimitReportReply fromJson(JsonObject json) {
    return new RateLimitReportReply(json.getString("scope"), json.getLong("cooling_until", 0L),
        json.getInteger("effective_budget", 0));
  }
}
