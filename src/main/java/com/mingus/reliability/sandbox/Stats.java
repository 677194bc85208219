package com.mingus.reliability.sandbox;

import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;

/** Requests served and 429s sent: in total, per endpoint and per Item. */
final class Stats {
  private final long[] total = new long[2];
  private final Map<String, long[]> endpoints = new LinkedHashMap<>();
  private final Map<String, long[]> items = new LinkedHashMap<>();

  void count(String endpoint, String itemId, boolean rateLimited) {
    add(total, rateLimited);
    add(endpoints.computeIfAbsent(endpoint, e -> new long[2]), rateLimited);
    if (itemId != null) {
      add(items.computeIfAbsent(itemId, e -> new long[2]), rateLimited);
    }
  }

  private static void add(long[] counter, boolean rateLimited) {
    counter[0]++;
    if (rateLimited) {
      counter[1]++;
    }
  }

  void clear() {
    total[0] = 0;
    total[1] = 0;
    endpoints.clear();
    items.clear();
  }

  JsonObject toJson() {
    JsonObject endpointJson = new JsonObject();
    endpoints.forEach((name, counter) -> endpointJson.put(name, json(counter)));
    JsonObject itemJson = new JsonObject();
    items.forEach((name, counter) -> itemJson.put(name, json(counter)));
    return new JsonObject().put("total", json(total)).put("endpoints", endpointJson).put("items", itemJson);
  }

  private static JsonObject json(long[] counter) {
    return new JsonObject().put("requests", counter[0]).put("rate_limited", counter[1]);
  }
}
