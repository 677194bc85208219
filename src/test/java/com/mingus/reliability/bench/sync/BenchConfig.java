package com.mingus.reliability.bench.sync;

import io.vertx.core.json.JsonObject;
import java.util.List;

/** Settings shared by the application-level sync benchmarks. */
final class BenchConfig {
  private BenchConfig() {}

  /**
   * Every Plaid endpoint the application calls, with limits far above what a benchmark reaches. Not higher:
   * the limiter keeps a sliding log of one slot per permit of budget (16 bytes each), per endpoint and per
   * tracked Item, so a budget of millions would cost its memory up front.
   */
  static JsonObject unboundRateLimits() {
    JsonObject limits = new JsonObject();
    for (String endpoint : List.of("/accounts/balance/get", "/accounts/get", "/item/get", "/item/remove",
        "/institutions/get_by_id", "/transactions/get", "/transactions/sync", "/transactions/refresh",
        "/item/public_token/exchange", "/link/token/create")) {
      limits.put(endpoint, new JsonObject().put("per_minute", 100_000).put("per_item_per_minute", 1_000));
    }
    return limits;
  }

  /** The same limits for the sandbox (its control API and its config take the same shape). */
  static JsonObject unboundSandboxLimits() {
    return unboundRateLimits();
  }
}
