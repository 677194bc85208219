package com.mingus.reliability.health;

import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.Classification;
import com.mingus.reliability.bus.ConnectionHealth;
import com.mingus.reliability.bus.ConnectionStatus;
import com.mingus.reliability.bus.InstitutionHealth;
import com.mingus.reliability.bus.NotificationPriority;
import com.mingus.reliability.bus.NotificationType;
import com.mingus.reliability.bus.NotifySend;
import com.mingus.reliability.bus.PermitPriority;
import com.mingus.reliability.bus.PermitReply;
import com.mingus.reliability.bus.PermitRequest;
import com.mingus.reliability.bus.SyncEvent;
import com.mingus.reliability.health.HealthMachine.Input;
import com.mingus.reliability.health.HealthMachine.Signal;
import com.mingus.reliability.plaid.Institution;
import com.mingus.reliability.plaid.PlaidClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every bank as this node sees it (docs/health.md, "Banks"): the rolling success rates of our syncs, Plaid's
 * status and incidents (polled under background permits), the {@link Circuit} that pauses the bank's
 * connections in sync while it is down, probes it and resumes everyone when it answers, and its known and
 * predicted maintenance windows ({@link MaintenanceForecast}, {@link MaintenancePlanner}). Each node keeps its
 * own view of the same events; the circuit's state, Plaid's window and the outage history are saved in
 * PostgreSQL. What a bank change means for each connection is the connection side's
 * ({@link Connections}, the health verticle's). Touched only on the health verticle's event loop, except the
 * bank map, which the metrics scrape reads from another thread.
 */
final class BankTracker {
  private static final Logger log = LoggerFactory.getLogger(BankTracker.class);

  /** What a bank's change asks of the connections' side. */
  interface Connections {
    /** Applies a bank-wide signal to each of the bank's connections, each once ({@code key} dedupes). */
    void signal(String institutionId, String key, Input input);

    /** Hands a notification to notify, kept pending until notify accepts it. */
    void send(NotifySend request, String kind);

    /** Counts one occurrence in /metrics. */
    void count(String name, String... tags);
  }

  private final Vertx vertx;
  private final HealthSettings settings;
  private final HealthStore store;
  private final PlaidClient plaid;
  private final Coalescer<InstitutionHealth> institutionEvents;
  private final Connections connections;
  private final MaintenancePlanner planner;
  /** Read by the metrics registry's scrape on another thread, so a concurrent map. */
  private final Map<String, Bank> banks = new java.util.concurrent.ConcurrentHashMap<>();
  private final List<Long> timers = new ArrayList<>();
  private boolean stopping;

  BankTracker(Vertx vertx, HealthSettings settings, HealthStore store, PlaidClient plaid,
      Coalescer<InstitutionHealth> institutionEvents, Connections connections) {
    this.vertx = vertx;
    this.settings = settings;
    this.store = store;
    this.plaid = plaid;
    this.institutionEvents = institutionEvents;
    this.connections = connections;
    this.planner = new MaintenancePlanner(vertx, settings.syncAheadMs(), new MaintenancePlanner.Actions() {
      @Override
      public void syncAhead(String institutionId, MaintenancePlanner.Plan plan, long spreadMs) {
        BankTracker.this.syncAhead(institutionId, plan, spreadMs);
      }

      @Override
      public void windowStarts(String institutionId, MaintenancePlanner.Plan plan) {
        BankTracker.this.windowStarts(institutionId, plan);
      }
    });
  }

  /** Restores the saved banks, then polls Plaid's status and re-learns the windows on their timers. */
  Future<Void> start() {
    return load().onSuccess(ok -> {
      timers.add(vertx.setPeriodic(settings.pollIntervalMs(), id -> poll()));
      if (settings.predictMaintenance()) {
        timers.add(vertx.setPeriodic(settings.forecastIntervalMs(), id -> forecast()));
      }
    });
  }

  void stop() {
    stopping = true;
    timers.forEach(vertx::cancelTimer);
    banks.values().forEach(bank -> {
      vertx.cancelTimer(bank.retryTimer);
      vertx.cancelTimer(bank.probeTimer);
    });
    planner.stop();
  }

  /** Every bank's health, by id: the {@code health.institutions} answer. */
  JsonObject institutions() {
    JsonArray out = new JsonArray();
    banks.values().stream().sorted(Comparator.comparing(bank -> bank.id)).forEach(bank -> out.add(bank.view().toJson()));
    return new JsonObject().put("institutions", out);
  }

  /** How many banks' circuits are in {@code state} (a gauge; any thread). */
  long inState(Circuit.State state) {
    return banks.values().stream().filter(bank -> bank.circuit.state() == state).count();
  }

  /** What this node knows about one bank. */
  final class Bank {
    final String id;
    String name;
    final Circuit circuit = new Circuit(settings.circuitWindowMs(), settings.circuitMinConnections(),
        settings.circuitFailureRatio());
    final RollingRates rates = new RollingRates(settings.rateWindowsMs());
    String plaidStatus;
    Incidents.Window maintenance;
    Instant scheduledNotifiedFrom;
    /** The next (or current) window learned from the bank's outages; null when there is no rhythm. */
    MaintenanceForecast.Prediction predicted;
    /** Whether {@code maintenance}'s end came from the prediction, Plaid having given none. */
    boolean untilLearned;
    long retryTimer = -1;
    long probeTimer = -1;
    String probeConnection;
    long lastPolledMs;

    Bank(String id, String name) {
      this.id = id;
      this.name = name;
    }

    InstitutionHealth view() {
      return new InstitutionHealth(id, name, circuit.state().wire(), circuit.since(), circuit.reason(), plaidStatus,
          rates.toJson(System.currentTimeMillis()),
          maintenance == null ? Incidents.Window.none()
              : maintenance.toJson().put("until_source", maintenance.until() == null ? null
                  : untilLearned ? "predicted" : "plaid"),
          predicted == null ? null : predicted.toJson(), now());
    }
  }

  /** The bank, known from now on (null id: none); a new name replaces the old. */
  Bank bank(String institutionId, String name) {
    if (institutionId == null) {
      return null;
    }
    Bank bank = banks.computeIfAbsent(institutionId, id -> new Bank(id, name));
    if (name != null && !name.equals(bank.name)) {
      bank.name = name;
    }
    return bank;
  }

  /** Counts one sync at its bank: its rates, and its circuit (a probe's result, or a trip). */
  void observe(SyncEvent event) {
    Bank bank = bank(event.institutionId(), event.institutionName());
    if (bank == null) {
      return;
    }
    Instant now = now();
    boolean success = SyncEvent.COMPLETED.equals(event.kind());
    Classification plan = event.classification() == null ? null : Classification.fromJson(event.classification());
    boolean throttled = !success && plan == null && event.failure() == null && "rate_limited".equals(event.status());
    boolean institutionWide = plan != null && plan.institutionWide();
    if (!throttled) {
      bank.rates.record(success, now.toEpochMilli());
    }
    boolean probe = "probe".equals(event.trigger());
    if (probe && bank.circuit.state() == Circuit.State.HALF_OPEN) {
      vertx.cancelTimer(bank.probeTimer);
      // Only the outage itself fails a probe: an Item-level failure means the bank answered.
      boolean reached = success || (plan != null && plan.scope() == Classification.Scope.ITEM);
      transition(bank, reached ? Circuit.Event.PROBE_OK : Circuit.Event.PROBE_FAILED, null);
    } else if (!throttled && bank.circuit.record(event.connectionId(), institutionWide, now)) {
      log.warn("Bank {} ({}): institution-wide failures from {}+ connections within {} ms; opening its circuit",
          bank.id, bank.name, settings.circuitMinConnections(), settings.circuitWindowMs());
      transition(bank, Circuit.Event.TRIP, "failures");
    }
    institutionEvents.offer(bank.id, bank.view());
  }

  private void transition(Bank bank, Circuit.Event event, String reason) {
    Circuit.State from = bank.circuit.state();
    if (!bank.circuit.fire(event, reason, now())) {
      return;
    }
    Circuit.State to = bank.circuit.state();
    log.info("Bank {} ({}): circuit {} -> {} ({})", bank.id, bank.name, from.wire(), to.wire(), event);
    connections.count("mingus.health.circuit.transitions", "to", to.wire(), "event", event.name().toLowerCase());
    recordOutage(bank, from, to);
    switch (to) {
      case OPEN -> opened(bank, from);
      case HALF_OPEN -> probe(bank);
      case CLOSED -> closed(bank);
    }
    saveBank(bank);
    institutionEvents.offer(bank.id, bank.view());
  }

  private void opened(Bank bank, Circuit.State from) {
    vertx.cancelTimer(bank.probeTimer);
    Instant until = maintenanceUntil(bank);
    JsonObject pause = new JsonObject().put("institution_id", bank.id).put("reason", bank.circuit.reason())
        // A safety net: were health to stop, the bank's connections would not stay paused for ever.
        .put("until", now().plusMillis(settings.pauseTtlMs()).atOffset(java.time.ZoneOffset.UTC).toString());
    // a pause (and a resume) is a row every node's sync honours, so a repeat is the same pause: handed to
    // this node's sync first, to any other while it goes unanswered (a lost resume would keep the bank paused
    // until the safety net's end)
    Bus.handOff(vertx, Addresses.SYNC_PAUSE_INSTITUTION, pause, settings.busTimeoutMs(), settings.busTimeoutMs() * 3, true)
        .onFailure(failure -> log.warn("Bank {}: sync did not take the pause: {}", bank.id, failure.getMessage()));
    if (from == Circuit.State.CLOSED) {
      toEveryConnection(bank, Signal.INSTITUTION_DOWN, until);
    }
    long wait = settings.circuitOpenMs();
    if (until != null) {
      wait = Math.min(settings.circuitMaxOpenMs(), Math.max(wait, until.toEpochMilli() - System.currentTimeMillis()));
    }
    vertx.cancelTimer(bank.retryTimer);
    bank.retryTimer = vertx.setTimer(wait, id -> transition(bank, Circuit.Event.RETRY_TIMER, null));
  }

  private void probe(Bank bank) {
    vertx.cancelTimer(bank.retryTimer);
    bank.probeConnection = null;
    Bus.<JsonObject>handOff(vertx, Addresses.SYNC_PROBE_INSTITUTION, new JsonObject().put("institution_id", bank.id),
            settings.busTimeoutMs(), settings.busTimeoutMs() * 2, false)
        .onSuccess(reply -> {
          bank.probeConnection = reply.getString("connection_id");
          if (bank.probeConnection == null) {
            log.info("Bank {}: no connection to probe; closing its circuit", bank.id);
            transition(bank, Circuit.Event.PROBE_OK, null);
          } else {
            connections.count("mingus.health.probes", "institution", bank.id);
          }
        })
        .onFailure(failure -> {
          log.warn("Bank {}: probe not started: {}", bank.id, failure.getMessage());
          transition(bank, Circuit.Event.PROBE_FAILED, null);
        });
    vertx.cancelTimer(bank.probeTimer);
    bank.probeTimer = vertx.setTimer(settings.probeTimeoutMs(), id -> transition(bank, Circuit.Event.PROBE_FAILED, null));
  }

  private void closed(Bank bank) {
    vertx.cancelTimer(bank.retryTimer);
    vertx.cancelTimer(bank.probeTimer);
    Bus.handOff(vertx, Addresses.SYNC_RESUME_INSTITUTION, new JsonObject().put("institution_id", bank.id),
            settings.busTimeoutMs(), settings.busTimeoutMs() * 3, true)
        .onFailure(failure -> log.warn("Bank {}: sync did not take the resume: {}", bank.id, failure.getMessage()));
    toEveryConnection(bank, Signal.INSTITUTION_UP, null);
  }

  /** Applies a bank-wide signal to each of its connections (a change each connection hears about once). */
  private void toEveryConnection(Bank bank, Signal signal, Instant maintenanceUntil) {
    String key = "bank:" + bank.id + ":" + signal + ":" + bank.circuit.since() + ":" + maintenanceUntil;
    connections.signal(bank.id, key, new Input(signal, now(), null, 0, null, null, maintenanceUntil, false));
  }

  // --- maintenance windows: known and predicted ----------------------------------------------------------

  /** The history the forecast learns from: an outage begins when a closed circuit opens, ends when it closes. */
  private void recordOutage(Bank bank, Circuit.State from, Circuit.State to) {
    Future<Void> recorded;
    if (from == Circuit.State.CLOSED && to == Circuit.State.OPEN) {
      Incidents.Window window = bank.maintenance;
      // Plaid's window, when it is the cause, knows the start better than our first failures do
      Instant start = "maintenance".equals(bank.circuit.reason()) && window != null && window.from() != null
          && !window.from().isAfter(now()) ? window.from() : bank.circuit.since();
      recorded = store.outageStarted(bank.id, start, bank.circuit.reason());
    } else if (to == Circuit.State.CLOSED) {
      recorded = store.outageEnded(bank.id, now());
    } else {
      return;
    }
    recorded.onFailure(failure -> log.warn("Bank {}: outage not recorded: {}", bank.id, failure.getMessage()));
  }

  /**
   * The end of the maintenance the bank is in now: Plaid's window's, else (Plaid giving none) the predicted
   * window's when now falls inside it; null when neither is known.
   */
  private Instant maintenanceUntil(Bank bank) {
    Instant now = now();
    Incidents.Window window = bank.maintenance;
    if (window != null && window.until() != null && !window.from().isAfter(now) && window.until().isAfter(now)) {
      return window.until();
    }
    MaintenanceForecast.Prediction predicted = bank.predicted;
    return predicted != null && predicted.covers(now) ? predicted.until() : null;
  }

  /** Plaid's window with no end gets the learned window's end, when the prediction is of this window. */
  private Incidents.Window learnedEnd(Bank bank, Incidents.Window window) {
    MaintenanceForecast.Prediction predicted = bank.predicted;
    bank.untilLearned = false;
    if (window == null || window.until() != null || predicted == null || window.from() == null) {
      return window;
    }
    long apart = Math.abs(window.from().toEpochMilli() - predicted.from().toEpochMilli());
    if (!predicted.covers(window.from()) && apart > settings.forecastToleranceMs()) {
      return window;
    }
    bank.untilLearned = true;
    return new Incidents.Window(window.state(), window.from(), predicted.until(), window.title());
  }

  /** Learns every bank's recurring window from the recorded outages (the database's, so every node learns alike). */
  void forecast() {
    if (stopping) {
      return;
    }
    Instant now = now();
    store.outagesSince(now.minus(MaintenanceForecast.WEEK.multipliedBy(8))).onSuccess(history -> {
      for (Bank bank : banks.values()) {
        MaintenanceForecast.Prediction predicted = MaintenanceForecast.predict(
            history.getOrDefault(bank.id, List.of()), now, java.time.Duration.ofMillis(settings.forecastToleranceMs()));
        if (!java.util.Objects.equals(predicted, bank.predicted)) {
          if (predicted != null && (bank.predicted == null || !predicted.from().equals(bank.predicted.from()))) {
            log.info("Bank {} ({}): maintenance predicted from {} until {} (every {}, from {} outages)", bank.id,
                bank.name, predicted.from(), predicted.until(), predicted.period(), predicted.occurrences());
          }
          bank.predicted = predicted;
          institutionEvents.offer(bank.id, bank.view());
        }
        replan(bank);
      }
    }).onFailure(failure -> log.warn("Maintenance forecast skipped: {}", failure.getMessage()));
  }

  /** Plans the bank's next window: Plaid's scheduled one or the predicted one, whichever begins first. */
  private void replan(Bank bank) {
    Instant now = now();
    MaintenancePlanner.Plan plan = null;
    Incidents.Window known = bank.maintenance;
    if (known != null && "scheduled".equals(known.state()) && known.from() != null && known.from().isAfter(now)) {
      plan = new MaintenancePlanner.Plan(known.from(), known.until(), "maintenance");
    }
    MaintenanceForecast.Prediction predicted = settings.predictMaintenance() ? bank.predicted : null;
    boolean plaidActive = known != null && known.active();
    if (predicted != null && !plaidActive && predicted.until().isAfter(now)
        && (plan == null || predicted.from().isBefore(plan.from()))) {
      plan = new MaintenancePlanner.Plan(predicted.from(), predicted.until(), "predicted_maintenance");
    }
    planner.plan(bank.id, plan);
  }

  private void syncAhead(String institutionId, MaintenancePlanner.Plan plan, long spreadMs) {
    Bank bank = banks.get(institutionId);
    if (bank == null || stopping || bank.circuit.state() != Circuit.State.CLOSED) {
      return;
    }
    Bus.<JsonObject>handOff(vertx, Addresses.SYNC_AHEAD_INSTITUTION,
            new JsonObject().put("institution_id", institutionId).put("spread_ms", spreadMs),
            settings.busTimeoutMs(), settings.busTimeoutMs() * 2, true)
        .onSuccess(reply -> {
          connections.count("mingus.health.maintenance.sync_ahead", "reason", plan.reason());
          log.info("Bank {} ({}): {} connection(s) sync ahead of the {} window from {}", bank.id, bank.name,
              reply.getInteger("queued"), plan.reason(), plan.from());
        })
        .onFailure(failure -> log.warn("Bank {}: no sync ahead of its window: {}", bank.id, failure.getMessage()));
  }

  /** A known or predicted window begins: the bank pauses now, before its first failure. */
  private void windowStarts(String institutionId, MaintenancePlanner.Plan plan) {
    Bank bank = banks.get(institutionId);
    if (bank == null || stopping || bank.circuit.state() != Circuit.State.CLOSED) {
      return;
    }
    log.info("Bank {} ({}): {} window begins{}; pausing its syncs", bank.id, bank.name, plan.reason(),
        plan.until() == null ? "" : " (until " + plan.until() + ")");
    connections.count("mingus.health.maintenance.paused_ahead", "reason", plan.reason());
    transition(bank, Circuit.Event.TRIP, plan.reason());
  }

  // --- Plaid's view of each bank -------------------------------------------------------------------------

  void poll() {
    if (plaid == null || stopping) {
      return;
    }
    store.institutions().onSuccess(rows -> {
      for (JsonObject row : rows) {
        bank(row.getString("institution_id"), row.getString("name"));
      }
      // Banks in trouble (an open circuit, a known window, Plaid not HEALTHY) first: their status decides
      // when users hear and when a circuit may close; then the least recently polled.
      banks.values().stream()
          .sorted(Comparator.<Bank>comparingInt(bank -> inTrouble(bank) ? 0 : 1)
              .thenComparingLong(bank -> bank.lastPolledMs))
          .limit(settings.pollBatch())
          .toList()
          .forEach(this::pollOne);
    }).onFailure(failure -> log.warn("Bank status poll skipped: {}", failure.getMessage()));
  }

  private static boolean inTrouble(Bank bank) {
    return bank.circuit.state() != Circuit.State.CLOSED || bank.maintenance != null
        || (bank.plaidStatus != null && !"HEALTHY".equalsIgnoreCase(bank.plaidStatus));
  }

  private void pollOne(Bank bank) {
    bank.lastPolledMs = System.currentTimeMillis();
    PermitRequest permit = PermitRequest.now("/institutions/get_by_id", null, PermitPriority.BACKGROUND);
    long askedAt = System.nanoTime();
    Bus.<PermitReply>request(vertx, Addresses.RATELIMIT_ACQUIRE, permit, settings.busTimeoutMs())
        // a call that could not start before its permit lapsed is not sent (PlaidClient.NotSentInTime): next poll
        .compose(reply -> reply.granted()
            ? plaid.sendBy(reply.sendByNanos(askedAt)).getInstitution(bank.id, List.of("US"), true)
            : Future.failedFuture(new IllegalStateException("no permit (" + reply.blockedBy() + ")")))
        .onSuccess(institution -> onStatus(bank, institution))
        .onFailure(failure -> log.debug("Bank {}: status not polled: {}", bank.id, failure.getMessage()));
  }

  private void onStatus(Bank bank, Institution institution) {
    Instant now = now();
    if (institution.name() != null) {
      bank.name = institution.name();
    }
    String status = Incidents.plaidStatus(institution.status());
    Incidents.Window window = learnedEnd(bank, Incidents.maintenance(institution.status(), now));
    boolean changed = !java.util.Objects.equals(status, bank.plaidStatus)
        || !java.util.Objects.equals(window, bank.maintenance);
    Incidents.Window previous = bank.maintenance;
    bank.plaidStatus = status;
    bank.maintenance = window;
    if (window != null && "scheduled".equals(window.state()) && !window.from().equals(bank.scheduledNotifiedFrom)) {
      announce(bank, window);
      changed = true;
    }
    boolean down = (window != null && window.active()) || "DOWN".equalsIgnoreCase(status);
    Circuit.State state = bank.circuit.state();
    if (down && state != Circuit.State.OPEN) {
      transition(bank, Circuit.Event.TRIP, window != null && window.active() ? "maintenance" : "plaid_down");
    } else if (down && state == Circuit.State.OPEN) {
      String cause = window != null && window.active() ? "maintenance" : "plaid_down";
      if (!cause.equals(bank.circuit.reason())) {
        // Now the cause is known, its end (seen by the poll) can close the circuit rather than a timer.
        bank.circuit.restore(Circuit.State.OPEN, bank.circuit.since(), cause);
        store.outageCause(bank.id, cause)
            .onFailure(failure -> log.warn("Bank {}: outage cause not recorded: {}", bank.id, failure.getMessage()));
        changed = true;
      }
      boolean newWindow = window != null && window.active()
          && (previous == null || !previous.active() || !java.util.Objects.equals(previous.until(), window.until()));
      if (newWindow) {
        toEveryConnection(bank, Signal.INSTITUTION_DOWN, window.until());
      }
    } else if (!down && state == Circuit.State.OPEN
        && ("maintenance".equals(bank.circuit.reason()) || "plaid_down".equals(bank.circuit.reason()))) {
      // Plaid's word ends what Plaid's word began; failures and a predicted window end by a probe
      transition(bank, Circuit.Event.CAUSE_CLEARED, null);
    }
    if (changed) {
      replan(bank);
      saveBank(bank);
      institutionEvents.offer(bank.id, bank.view());
    }
  }

  /** Tells each user with a connection at the bank about maintenance ahead of time, once per window. */
  private void announce(Bank bank, Incidents.Window window) {
    log.info("Bank {} ({}): maintenance scheduled from {} until {}", bank.id, bank.name, window.from(), window.until());
    store.ofInstitution(bank.id).compose(connections -> {
      List<String> ids = new ArrayList<>();
      List<JsonObject> requests = new ArrayList<>();
      for (ConnectionHealth health : connections) {
        if (health.status() == ConnectionStatus.DISCONNECTED) {
          continue;
        }
        String text = "Scheduled maintenance at " + (bank.name == null ? "your bank" : bank.name) + " from "
            + window.from() + (window.until() == null ? "" : " until " + window.until())
            + ". Your accounts may not update during that time.";
        JsonObject data = new JsonObject().put("institution_name", bank.name).put("status", "scheduled")
            .put("kind", "maintenance_scheduled").put("detail", text)
            .put("action_required_text", "Nothing to do: we'll update your accounts when it's over.")
            .put("completion_time", window.until() == null ? null : window.until().toString())
            .put("maintenance_from", window.from().toString());
        String key = health.connectionId() + ":maintenance_scheduled:" + window.from();
        ids.add(health.connectionId());
        requests.add(new NotifySend(health.userId(), NotificationType.BANK_MAINTENANCE.wire(), health.connectionId(),
            key, data, null, NotificationPriority.LOW.wire(), null, null).toJson());
      }
      // every user's notice is pending before the bank counts as announced: a death in between announces again
      return store.queueNotices(ids, requests).map(queued -> requests);
    }).onSuccess(requests -> {
      bank.scheduledNotifiedFrom = window.from();
      saveBank(bank);
      requests.forEach(request -> connections.send(NotifySend.fromJson(request), "maintenance_scheduled"));
    }).onFailure(failure -> log.warn("Bank {}: scheduled maintenance not announced: {}", bank.id, failure.getMessage()));
  }

  private void saveBank(Bank bank) {
    store.saveInstitution(bank.id, bank.name, bank.circuit.state().wire(), bank.circuit.since(), bank.circuit.reason(),
            bank.plaidStatus, bank.maintenance == null ? null : bank.maintenance.toJson(), bank.scheduledNotifiedFrom)
        .onFailure(failure -> log.warn("Bank {}: state not saved: {}", bank.id, failure.getMessage()));
  }

  /** Restores each bank's circuit after a restart; an open or half-open one probes again after the open period. */
  private Future<Void> load() {
    return store.loadInstitutions().map(rows -> {
      for (Row row : rows) {
        Bank bank = bank(row.getString("institution_id"), row.getString("name"));
        Circuit.State state = Circuit.State.parse(row.getString("circuit"));
        bank.circuit.restore(state == Circuit.State.HALF_OPEN ? Circuit.State.OPEN : state,
            HealthStore.instant(row.getOffsetDateTime("circuit_since")), row.getString("circuit_reason"));
        bank.plaidStatus = row.getString("plaid_status");
        bank.scheduledNotifiedFrom = HealthStore.instant(row.getOffsetDateTime("scheduled_notified_from"));
        JsonObject maintenance = (JsonObject) row.getValue("maintenance");
        if (maintenance != null && maintenance.getString("from") != null) {
          bank.maintenance = new Incidents.Window(maintenance.getString("state"),
              instant(maintenance.getString("from"), null), instant(maintenance.getString("until"), null),
              maintenance.getString("title"));
        }
        if (bank.circuit.state() == Circuit.State.OPEN) {
          bank.retryTimer = vertx.setTimer(settings.circuitOpenMs(), id -> transition(bank, Circuit.Event.RETRY_TIMER, null));
        }
      }
      return null;
    });
  }

  private static Instant now() {
    return Instant.now().truncatedTo(ChronoUnit.MILLIS);
  }

  private static Instant instant(String text, Instant fallback) {
    if (text == null) {
      return fallback;
    }
    try {
      return java.time.OffsetDateTime.parse(text).toInstant().truncatedTo(ChronoUnit.MILLIS);
    } catch (java.time.format.DateTimeParseException e) {
      return fallback;
    }
  }
}
