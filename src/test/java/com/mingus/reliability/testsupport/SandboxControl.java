package com.mingus.reliability.testsupport;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.util.HashSet;
import java.util.Set;

/** The sandbox's control surface (DESIGN.md "The Plaid sandbox"), driven from a test thread. */
public final class SandboxControl {
  private final int port;

  public SandboxControl(int port) {
    this.port = port;
  }

  public JsonObject post(String path, JsonObject body) {
    return call("POST", path, body);
  }

  public JsonObject put(String path, JsonObject body) {
    return call("PUT", path, body);
  }

  public JsonObject get(String path) {
    return call("GET", path, null);
  }

  public JsonObject delete(String path) {
    return call("DELETE", path, null);
  }

  private JsonObject call(String method, String path, JsonObject body) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .header("Content-Type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body.encode()));
    Http.Response response = Http.send(request);
    if (response.status() >= 300) {
      throw new IllegalStateException(method + " " + path + " → " + response.status() + " " + response.body());
    }
    return response.body().isEmpty() ? new JsonObject() : response.json();
  }

  public void institution(String id, String name) {
    post("/__control/institutions", new JsonObject().put("institution_id", id).put("name", name));
  }

  /** A new Item; answers {public_token, item_id}. */
  public JsonObject item(String institutionId, String userId, int transactions) {
    return post("/__control/items", new JsonObject().put("institution_id", institutionId).put("user_id", userId)
        .put("transactions", transactions));
  }

  public JsonObject mutate(String itemId, int added, int modified, int removed) {
    return post("/__control/items/" + itemId + "/transactions",
        new JsonObject().put("added", added).put("modified", modified).put("removed", removed));
  }

  public JsonObject groundTruth(String itemId) {
    return get("/__control/items/" + itemId + "/ground-truth");
  }

  /** The ids of every current transaction of an Item, as the sandbox holds them. */
  public Set<String> truthIds(String itemId) {
    Set<String> ids = new HashSet<>();
    JsonArray transactions = groundTruth(itemId).getJsonArray("transactions");
    for (int i = 0; i < transactions.size(); i++) {
      ids.add(transactions.getJsonObject(i).getString("transaction_id"));
    }
    return ids;
  }

  /**
   * Every current transaction of an Item as the sandbox holds it: id to "amount|date|pending", the fields a
   * user sees change (amounts as plain numbers, so 12.5 and 12.5000 are the same).
   */
  public java.util.Map<String, String> truth(String itemId) {
    java.util.Map<String, String> out = new java.util.HashMap<>();
    JsonArray transactions = groundTruth(itemId).getJsonArray("transactions");
    for (int i = 0; i < transactions.size(); i++) {
      JsonObject txn = transactions.getJsonObject(i);
      out.put(txn.getString("transaction_id"), fingerprint(String.valueOf(txn.getValue("amount")),
          txn.getString("date"), txn.getBoolean("pending", false)));
    }
    return out;
  }

  /** The form {@link #truth} gives a transaction, for comparing with what a store holds. */
  public static String fingerprint(String amount, String date, boolean pending) {
    return new java.math.BigDecimal(amount).stripTrailingZeros().toPlainString() + "|" + date + "|" + pending;
  }

  public JsonObject fault(JsonObject spec) {
    return post("/__control/faults", spec);
  }

  public void clearFaults() {
    delete("/__control/faults");
  }

  public JsonObject stats() {
    return get("/__control/stats");
  }

  /** Requests the sandbox served for one Item on one endpoint (0 when none). */
  public long itemRequests(String itemId) {
    JsonObject item = stats().getJsonObject("items", new JsonObject()).getJsonObject(itemId);
    return item == null ? 0 : item.getLong("requests", 0L);
  }
}
