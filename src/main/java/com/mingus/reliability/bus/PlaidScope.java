package com.mingus.reliability.bus;

/** How rate-limit messages name a Plaid endpoint and an Item, the same way in every record. */
final class PlaidScope {
  private PlaidScope() {}

  /** A Plaid path with its leading slash; blank is refused. */
  static String endpoint(String endpoint) {
    if (endpoint == null || endpoint.isBlank()) {
      throw new IllegalArgumentException("endpoint is required");
    }
    return endpoint.startsWith("/") ? endpoint : "/" + endpoint;
  }

  /** An Item id, or null for a call without one (blank counts as none). */
  static String item(String itemId) {
    return itemId == null || itemId.isBlank() ? null : itemId;
  }
}
