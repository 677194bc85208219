package com.mingus.reliability.plaid;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.LocalDate;
import java.util.List;

/**
 * A {@code /sandbox/public_token/create} call: an Item made without Link (sandbox only).
 *
 * @param overrideUsername a sandbox test user such as {@code user_transactions_dynamic}, or null
 * @param startDate        first day of generated transactions, or null
 * @param endDate          last day of generated transactions, or null
 */
public record SandboxPublicTokenRequest(
    String institutionId,
    List<String> initialProducts,
    String webhook,
    String overrideUsername,
    LocalDate startDate,
    LocalDate endDate) {

  public SandboxPublicTokenRequest {
    if (institutionId == null || institutionId.isEmpty()) {
      throw new IllegalArgumentException("institution id required");
    }
    initialProducts = initialProducts == null || initialProducts.isEmpty() ? List.of("transactions")
        : List.copyOf(initialProducts);
  }

  /** An Item at the institution with the transactions product. */
  public static SandboxPublicTokenRequest of(String institutionId) {
    return new SandboxPublicTokenRequest(institutionId, List.of("transactions"), null, null, null, null);
  }

  JsonObject toJson() {
    JsonObject body = new JsonObject().put("institution_id", institutionId)
        .put("initial_products", new JsonArray(initialProducts));
    JsonObject options = new JsonObject();
    if (webhook != null) {
      options.put("webhook", webhook);
    }
    if (overrideUsername != null) {
      options.put("override_username", overrideUsername);
    }
    if (startDate != null || endDate != null) {
      JsonObject transactions = new JsonObject();
      if (startDate != null) {
        transactions.put("start_date", startDate.toString());
      }
      if (endDate != null) {
        transactions.put("end_date", endDate.toString());
      }
      options.put("transactions", transactions);
    }
    if (!options.isEmpty()) {
      body.put("options", options);
    }
    return body;
  }
}
