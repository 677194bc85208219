package com.mingus.reliability.bench.sync;

import io.vertx.core.json.JsonObject;
import java.util.List;

/** Settings shared by the application-level sync benchmarks. */
final class BenchConfig {
  private BenchConfig() {}

  /** Every Plaid endpoint the application calls, with limits far above what a benchmark can reach. */
  static JsonObject unboundRateLimits() {
    JsonObject limits = new JsonObject();
    for (String endpoint : List.of("/accounts/balance/get", "/accounts/get", "/item/get", "/item/remove",
        "/institutions/get_by_id", "/transactions/get", "/transactions/sync", "/transactions/refresh",
        "/item/public_token/exchange", "/link/token/create")) {
      limits.put(endpoint, new JsonObject().put("per_minute", 10_000_000).put("per_hour", 100_000_000)
          .put("per_item_per_minute", 1_000_000));
    }
    return limits;
  }

  /** The same limits, in the sandbox's control format (no per-hour limit there). */
  static JsonObject unboundSandboxLimits() {
    JsonObject limits = unboundRateLimits().copy();
    for (String endpoint : limits.fieldNames()) {
      limits.getJsonObject(endpoint).remove("per_hour");
    }
    return limits;
  }
}
