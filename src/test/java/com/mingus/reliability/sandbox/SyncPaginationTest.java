package com.mingus.reliability.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * /transactions/sync pages exactly: a client that follows next_cursor, applies every page, and restarts
 * from the update's first cursor on TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION ends with what the
 * sandbox holds, whatever changes happen meanwhile and whatever the page size.
 */
@ExtendWith(VertxExtension.class)
class SyncPaginationTest {
  private SandboxHarness sandbox;

  @BeforeEach
  void start(Vertx vertx) {
    sandbox = SandboxHarness.start(vertx, new JsonObject()
        .put("rate_limits", new JsonObject().put("/transactions/sync", new JsonObject().put("per_item_per_minute", 100_000))));
  }

  @AfterEach
  void stop() {
    sandbox.close();
  }

  /** What a correct client holds: transactions by id, and the cursor it committed. */
  private static final class Mirror {
    final Map<String, JsonObject> transactions = new HashMap<>();
    String cursor;
    int mutationErrors;
    int pages;

    void apply(JsonObject page, Map<String, JsonObject> into) {
      for (Object added : page.getJsonArray("added")) {
        JsonObject txn = (JsonObject) added;
        into.put(txn.getString("transaction_id"), txn);
      }
      for (Object modified : page.getJsonArray("modified")) {
        JsonObject txn = (JsonObject) modified;
        assertThat(into).containsKey(txn.getString("transaction_id"));
        into.put(txn.getString("transaction_id"), txn);
      }
      for (Object removed : page.getJsonArray("removed")) {
        JsonObject txn = (JsonObject) removed;
        into.remove(txn.getString("transaction_id"));
      }
    }
  }

  /**
   * One whole update, as the client must do it: pages go to a scratch copy that is committed with the
   * cursor only after the last page; a mutation error throws the scratch away and starts over.
   */
  private void syncUpdate(Mirror mirror, String token, int count, Runnable betweenPages) {
    while (true) {
      Map<String, JsonObject> scratch = new HashMap<>(mirror.transactions);
      String cursor = mirror.cursor;
      boolean restarted = false;
      while (true) {
        JsonObject body = new JsonObject().put("access_token", token).put("count", count);
        if (cursor != null) {
          body.put("cursor", cursor);
        }
        SandboxHarness.Response response = sandbox.plaid("/transactions/sync", body);
        if (response.status() == 400
            && "TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION".equals(response.errorCode())) {
          mirror.mutationErrors++;
          restarted = true;
          break;
        }
        assertThat(response.status()).as(response.raw()).isEqualTo(200);
        JsonObject page = response.json();
        mirror.pages++;
        int size = page.getJsonArray("added").size() + page.getJsonArray("modified").size()
            + page.getJsonArray("removed").size();
        assertThat(size).isLessThanOrEqualTo(count);
        mirror.apply(page, scratch);
        cursor = page.getString("next_cursor");
        if (!page.getBoolean("has_more")) {
          break;
        }
        betweenPages.run();
      }
      if (!restarted) {
        mirror.transactions.clear();
        mirror.transactions.putAll(scratch);
        mirror.cursor = cursor;
        return;
      }
    }
  }

  private Map<String, JsonObject> groundTruth(String itemId) {
    SandboxHarness.Response truth = sandbox.control(HttpMethod.GET, "/__control/items/" + itemId + "/ground-truth", null);
    assertThat(truth.status()).isEqualTo(200);
    Map<String, JsonObject> out = new HashMap<>();
    for (Object txn : truth.json().getJsonArray("transactions")) {
      out.put(((JsonObject) txn).getString("transaction_id"), (JsonObject) txn);
    }
    return out;
  }

  private void mutate(String itemId, int added, int modified, int removed) {
    SandboxHarness.Response response = sandbox.control(HttpMethod.POST, "/__control/items/" + itemId + "/transactions",
        new JsonObject().put("added", added).put("modified", modified).put("removed", removed));
    assertThat(response.status()).as(response.raw()).isEqualTo(200);
  }

  @Test
  void pagingTwoThousandTransactionsWhileTheyChangeEndsEqualToTheGroundTruth() {
    JsonObject item = sandbox.newItem(2_000, null);
    String itemId = item.getString("item_id");
    String token = item.getString("access_token");
    Mirror mirror = new Mirror();
    int[] pageNumber = {0};

    // changes land between pages of the first two attempts; the third attempt runs undisturbed
    syncUpdate(mirror, token, 100, () -> {
      pageNumber[0]++;
      if (mirror.mutationErrors < 2 && pageNumber[0] % 7 == 3) {
        mutate(itemId, 5, 4, 3);
      }
    });
    assertThat(mirror.mutationErrors).isEqualTo(2);
    assertThat(mirror.transactions).isEqualTo(groundTruth(itemId));
    assertThat(mirror.transactions).hasSize(2_000 + 2 * (5 - 3));

    // incremental updates after the full history, again with changes during the pagination
    mutate(itemId, 150, 120, 90);
    int errorsBefore = mirror.mutationErrors;
    int[] calls = {0};
    syncUpdate(mirror, token, 100, () -> {
      if (calls[0]++ == 0) {
        mutate(itemId, 1, 1, 1);
      }
    });
    assertThat(mirror.mutationErrors).isEqualTo(errorsBefore + 1);
    assertThat(mirror.transactions).isEqualTo(groundTruth(itemId));

    // pending transactions post: the pending one is removed, the posted one points back to it
    sandbox.plaid("/transactions/refresh", new JsonObject().put("access_token", token));
    Map<String, JsonObject> before = new HashMap<>(mirror.transactions);
    syncUpdate(mirror, token, 500, () -> { });
    assertThat(mirror.transactions).isEqualTo(groundTruth(itemId));
    long postedFromPending = mirror.transactions.values().stream()
        .filter(txn -> txn.getString("pending_transaction_id") != null)
        .peek(txn -> assertThat(before.get(txn.getString("pending_transaction_id")).getBoolean("pending")).isTrue())
        .peek(txn -> assertThat(mirror.transactions).doesNotContainKey(txn.getString("pending_transaction_id")))
        .count();
    assertThat(postedFromPending).isPositive();
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 7, 99, 100, 101, 499, 500})
  void everyPageSizeFromOneToFiveHundredYieldsTheSameHistory(int count) {
    JsonObject item = sandbox.newItem(count == 1 ? 120 : 700, null);
    Mirror mirror = new Mirror();
    syncUpdate(mirror, item.getString("access_token"), count, () -> { });
    assertThat(mirror.transactions).isEqualTo(groundTruth(item.getString("item_id")));
    mutate(item.getString("item_id"), 20, 15, 10);
    syncUpdate(mirror, item.getString("access_token"), count, () -> { });
    assertThat(mirror.transactions).isEqualTo(groundTruth(item.getString("item_id")));
  }

  @Test
  void aRestingCursorWithNothingNewReturnsAnEmptyPageAndTheSameCursor() {
    JsonObject item = sandbox.newItem(50, null);
    JsonObject first = sandbox.sync(item.getString("access_token"), null, 500);
    assertThat(first.getBoolean("has_more")).isFalse();
    JsonObject again = sandbox.sync(item.getString("access_token"), first.getString("next_cursor"), 500);
    assertThat(again.getJsonArray("added")).isEqualTo(new JsonArray());
    assertThat(again.getString("next_cursor")).isEqualTo(first.getString("next_cursor"));
    assertThat(again.getJsonArray("accounts")).isNotEmpty();
  }
}
