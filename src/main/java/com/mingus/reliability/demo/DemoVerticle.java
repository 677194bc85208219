package com.mingus.reliability.demo;

import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.NotifyPreferences;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded default's demo population (only with MINGUS_DEMO=true and the sandbox as Plaid): banks and
 * Items created through the sandbox's control surface, each Item's webhook pointed at this server's own
 * {@code /api/plaid/webhook}, connections registered through {@code sync.register}, and then a story that
 * repeats: a bank goes into maintenance, a login expires, a burst of rate limiting, and everything
 * recovers, with new transactions arriving in between, so the dashboard shows the system at work within
 * its first minute.
 */
public final class DemoVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(DemoVerticle.class);

  private static final String[][] BANKS = {
      {"ins_demo_platypus", "First Platypus Bank"},
      {"ins_demo_tartan", "Tartan Bank"},
      {"ins_demo_houndstooth", "Houndstooth Credit Union"},
      {"ins_demo_gingham", "Gingham Savings"}};

  private record Demo(String userId, String institutionId, String itemId, String connectionId) {}

  private WebClient client;
  private String sandboxHost;
  private int sandboxPort;
  private long busTimeoutMs;
  private long actMs;
  private final List<Demo> connections = new ArrayList<>();
  private final List<Long> timers = new ArrayList<>();
  private final Random random = new Random(42);
  private int cycle;

  @Override
  public Future<?> start() {
    JsonObject config = config();
    sandboxHost = config.getString("sandbox_host", "127.0.0.1");
    sandboxPort = config.getInteger("sandbox_port");
    busTimeoutMs = config.getLong("bus_timeout_ms", 20_000L);
    actMs = config.getLong("act_spacing_ms", 8_000L);
    int users = Math.max(1, Math.min(10, config.getInteger("users", 3)));
    int transactions = config.getInteger("transactions_per_item", 120);
    long firstFaultMs = config.getLong("first_fault_after_ms", 12_000L);
    long cycleMs = config.getLong("cycle_ms", 90_000L);
    long activityMs = config.getLong("activity_ms", 20_000L);
    String webhook = "http://127.0.0.1:" + config.getInteger("http_port") + "/api/plaid/webhook";
    client = WebClient.create(vertx, new WebClientOptions().setConnectTimeout(3_000));

    // populated in the background: start-up does not wait for the demo
    vertx.setTimer(500, id -> populate(users, transactions, webhook)
        .onSuccess(count -> {
          log.info("Demo: {} connections for {} users at {} banks; faults start in {} s", count, users, BANKS.length,
              firstFaultMs / 1000);
          timers.add(vertx.setTimer(firstFaultMs, t -> {
            story();
            timers.add(vertx.setPeriodic(cycleMs, p -> story()));
          }));
          timers.add(vertx.setPeriodic(activityMs, p -> activity()));
        })
        .onFailure(failure -> log.warn("Demo population failed: {}", failure.getMessage())));
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    timers.forEach(vertx::cancelTimer);
    client.close();
    return Future.succeededFuture();
  }

  private Future<Integer> populate(int users, int transactions, String webhook) {
    Future<Void> chain = Future.succeededFuture();
    for (String[] bank : BANKS) {
      chain = chain.compose(v -> control(HttpMethod.POST, "/__control/institutions",
          new JsonObject().put("institution_id", bank[0]).put("name", bank[1])).mapEmpty());
    }
    for (int u = 0; u < users; u++) {
      String userId = u == 0 ? "demo-user" : "demo-user-" + (u + 1);
      chain = chain.compose(v -> preferences(userId));
      int banks = u == 0 ? BANKS.length : 2;
      for (int b = 0; b < banks; b++) {
        String institutionId = BANKS[(u + b) % BANKS.length][0];
        chain = chain.compose(v -> control(HttpMethod.POST, "/__control/items", new JsonObject()
                .put("institution_id", institutionId).put("user_id", userId).put("transactions", transactions)
                .put("webhook", webhook))
            .compose(item -> Bus.<Object>request(vertx, Addresses.SYNC_REGISTER,
                    new JsonObject().put("user_id", userId).put("public_token", item.getString("public_token")), busTimeoutMs)
                .map(reply -> {
                  JsonObject view = (JsonObject) reply;
                  connections.add(new Demo(userId, institutionId, item.getString("item_id"), view.getString("connection_id")));
                  return (Void) null;
                })));
      }
    }
    return chain.map(v -> connections.size());
  }

  /** Email for the demo users, so the embedded mail sink has something to show. */
  private Future<Void> preferences(String userId) {
    NotifyPreferences prefs = new NotifyPreferences(userId, "UTC", null, null, new JsonObject(),
        userId + "@mingus.local", null, List.of(), null, null, false, null);
    return Bus.request(vertx, Addresses.NOTIFY_PREFERENCES_PUT, prefs, busTimeoutMs)
        .<Void>mapEmpty()
        .otherwise(failure -> {
          log.debug("Demo: preferences for {} not set: {}", userId, failure.getMessage());
          return null;
        });
  }

  /** One round of the story; each act a few seconds after the last, the recovery a minute later. */
  private void story() {
    if (connections.isEmpty()) {
      return;
    }
    int round = cycle++;
    String maintenanceBank = BANKS[(1 + round) % BANKS.length][0];
    String limitedBank = BANKS[(3 + round) % BANKS.length][0];
    Demo loginVictim = connections.get((2 + round * 3) % connections.size());

    log.info("Demo: {} goes into maintenance for {} s", name(maintenanceBank), 8 * actMs / 1000);
    control(HttpMethod.POST, "/__control/institutions/" + maintenanceBank + "/maintenance",
        new JsonObject().put("until", Instant.now().plusMillis(8 * actMs).toString()))
        .onSuccess(v -> syncAll(maintenanceBank));

    timers.add(vertx.setTimer(actMs, t -> {
      log.info("Demo: the login of {} at {} expires", loginVictim.userId(), name(loginVictim.institutionId()));
      control(HttpMethod.POST, "/__control/items/" + loginVictim.itemId() + "/reset-login", new JsonObject())
          .onSuccess(v -> syncNow(loginVictim));
    }));

    timers.add(vertx.setTimer(2 * actMs, t -> {
      log.info("Demo: {} answers with rate limits for a while", name(limitedBank));
      control(HttpMethod.POST, "/__control/faults", new JsonObject()
          .put("scope", new JsonObject().put("institution_id", limitedBank))
          .put("error_type", "RATE_LIMIT_EXCEEDED").put("error_code", "RATE_LIMIT").put("http_status", 429)
          .put("duration_ms", 4 * actMs))
          .onSuccess(v -> syncAll(limitedBank));
    }));

    timers.add(vertx.setTimer(8 * actMs, t -> {
      log.info("Demo: recovery: {} is back, {} logs in again, rate limits lifted", name(maintenanceBank),
          loginVictim.userId());
      control(HttpMethod.DELETE, "/__control/institutions/" + maintenanceBank + "/maintenance", null)
          .onSuccess(v -> syncAll(maintenanceBank));
      control(HttpMethod.POST, "/__control/items/" + loginVictim.itemId() + "/repair-login", new JsonObject());
      control(HttpMethod.DELETE, "/__control/faults", null).onSuccess(v -> syncAll(limitedBank));
    }));
  }

  /** New transactions now and then: the sandbox fires SYNC_UPDATES_AVAILABLE at our webhook. */
  private void activity() {
    if (connections.isEmpty()) {
      return;
    }
    Demo demo = connections.get(random.nextInt(connections.size()));
    control(HttpMethod.POST, "/__control/items/" + demo.itemId() + "/transactions",
        new JsonObject().put("added", 1 + random.nextInt(4)).put("modified", random.nextInt(2)).put("removed", 0));
  }

  private void syncAll(String institutionId) {
    connections.stream().filter(c -> c.institutionId().equals(institutionId)).forEach(this::syncNow);
  }

  private void syncNow(Demo demo) {
    Bus.request(vertx, Addresses.SYNC_NOW, new JsonObject().put("user_id", demo.userId())
        .put("connection_id", demo.connectionId()), busTimeoutMs)
        .onFailure(failure -> log.debug("Demo: sync-now failed: {}", failure.getMessage()));
  }

  private static String name(String institutionId) {
    for (String[] bank : BANKS) {
      if (bank[0].equals(institutionId)) {
        return bank[1];
      }
    }
    return institutionId;
  }

  private Future<JsonObject> control(HttpMethod method, String path, JsonObject body) {
    var request = client.request(method, sandboxPort, sandboxHost, path).timeout(10_000);
    var sent = body == null ? request.send() : request.sendJsonObject(body);
    return sent.compose(response -> {
      if (response.statusCode() >= 300) {
        return Future.<JsonObject>failedFuture("sandbox " + method + " " + path + " answered " + response.statusCode());
      }
      JsonObject json = response.bodyAsJsonObject();
      return Future.succeededFuture(json == null ? new JsonObject() : json);
    }).onFailure(failure -> log.debug("Demo: {}", failure.getMessage()));
  }
}
