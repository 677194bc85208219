package com.mingus.reliability.plaid;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;

/**
 * An Item as {@code /item/get} (and {@code /accounts/get}) describe it.
 *
 * @param error                 the Item's current error, or null when it is healthy
 * @param consentExpirationTime when the user's consent ends (OAuth institutions), or null
 * @param updateType            {@code background} or {@code user_present_required}
 * @param raw                   the object as received
 */
public record PlaidItem(
    String itemId,
    String institutionId,
    String institutionName,
    String webhook,
    PlaidError error,
    Instant consentExpirationTime,
    String updateType,
    List<String> availableProducts,
    List<String> billedProducts,
    List<String> products,
    JsonObject raw) {

  static PlaidItem fromJson(JsonObject json) {
    if (json == null) {
      return null;
    }
    JsonObject error = LenientJson.object(json, "error");
    return new PlaidItem(
        LenientJson.text(json, "item_id"),
        LenientJson.text(json, "institution_id"),
        LenientJson.text(json, "institution_name"),
        LenientJson.text(json, "webhook"),
        PlaidError.isPlaidError(error) ? PlaidError.fromJson(error) : null,
        LenientJson.instant(json, "consent_expiration_time"),
        LenientJson.text(json, "update_type"),
        LenientJson.texts(json, "available_products"),
        LenientJson.texts(json, "billed_products"),
        LenientJson.texts(json, "products"),
        json.copy());
  }
}
