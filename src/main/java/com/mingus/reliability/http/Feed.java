package com.mingus.reliability.http;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;
import io.vertx.ext.web.RoutingContext;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live health feed at {@code /api/reliability/feed} (WebSocket). The handshake is refused unless the
 * {@code Origin} is allowed (or absent: not a browser); the client then proves who it is with a first
 * message {@code {"type":"auth","token":"<JWT>"}} within {@code auth_timeout_ms}, or arrives with a
 * single-use {@code ?ticket=} issued by {@code POST /api/reliability/feed/ticket}. It gets a snapshot and
 * afterwards one message per change, only about its own connections (an operator's, about every one).
 *
 * <p>A slow client never slows the others: each client has its own pending map keyed by what a message is
 * about, so while its socket's write queue is full a newer health change of a connection replaces the
 * older one (counted in {@code mingus_feed_coalesced_total}); a client whose backlog stays for
 * {@code max_behind_ms}, or grows past {@code max_pending}, is closed with a reason (counted in
 * {@code mingus_feed_slow_closed_total}, what it had waiting in {@code mingus_feed_dropped_total}). Nothing
 * else waits for a slow socket: a change is encoded once and written to each ready socket in turn, and a
 * full socket costs one look at its write queue. Changes arrive over the event bus, so every HTTP instance on
 * every node serves its own clients, on its own event loop.
 *
 * <p>Snapshots are read through {@link SnapshotReads}: shared by the clients that need the same one and
 * bounded in number, so thousands of clients arriving at once (or getting a new snapshot when health answers
 * again) do not bury health tracking, and its ping, under thousands of requests.
 */
final class Feed {
  private static final Logger log = LoggerFactory.getLogger(Feed.class);
  private static final SecureRandom RANDOM = new SecureRandom();
  static final short CLOSE_UNAUTHORIZED = 4401;
  static final short CLOSE_TOO_SLOW = 4408;

  private final Vertx vertx;
  private final Auth auth;
  private final HealthSource health;
  private final Origins origins;
  private final long authTimeoutMs;
  private final long heartbeatMs;
  private final int maxPending;
  private final long maxBehindMs;
  private final long ticketTtlMs;
  private final int writeQueueMaxBytes;
  /** Authenticated clients by user id, the operators' among them, and every socket: who hears what. */
  private final Map<String, Clients> byUser = new HashMap<>();
  private final Clients operators = new Clients();
  private final Clients all = new Clients();
  private final SnapshotReads reads;
  private final FeedMetrics metrics;
  /** Messages waiting in every client's pending map, for the gauge (read from other threads: a stale value will do). */
  private int pendingTotal;
  private final long healthCheckMs;
  private final long pingTimeoutMs;
  private long heartbeatTimer = -1;
  private long healthTimer = -1;
  /** What the last look found: health tracking answers its ping. */
  private boolean healthAnswers = true;

  Feed(Vertx vertx, Auth auth, HealthSource health, Origins origins, JsonObject config, long pingTimeoutMs,
      MeterRegistry registry) {
    this.vertx = vertx;
    this.auth = auth;
    this.health = health;
    this.origins = origins;
    this.authTimeoutMs = config.getLong("auth_timeout_ms", 5_000L);
    this.heartbeatMs = config.getLong("heartbeat_ms", 15_000L);
    this.maxPending = config.getInteger("max_pending", 1_000);
    this.maxBehindMs = config.getLong("max_behind_ms", 30_000L);
    this.ticketTtlMs = Math.min(59_000L, config.getLong("ticket_ttl_ms", 30_000L));
    this.writeQueueMaxBytes = config.getInteger("write_queue_max_bytes", 262_144);
    this.healthCheckMs = config.getLong("health_check_ms", 5_000L);
    this.pingTimeoutMs = pingTimeoutMs;
    this.reads = new SnapshotReads(config.getInteger("snapshot_concurrency", 16));
    this.metrics = new FeedMetrics(registry);
  }

  /** Starts the heartbeat and the watch on health tracking; {@code verticle} tags this instance's gauges. */
  void start(String verticle) {
    metrics.gauges(verticle, all::size, () -> pendingTotal);
    heartbeatTimer = vertx.setPeriodic(heartbeatMs, id -> heartbeat());
    healthTimer = vertx.setPeriodic(healthCheckMs, id -> watchHealth());
  }

  void stop() {
    vertx.cancelTimer(heartbeatTimer);
    vertx.cancelTimer(healthTimer);
    for (Client client : all.array()) {
      client.close((short) 1001, "server shutting down");
    }
    metrics.close();
  }

  int clients() {
    return all.size();
  }

  // --- handshake and authentication ------------------------------------------------------------------

  void handshake(RoutingContext ctx) {
    if (!"websocket".equalsIgnoreCase(ctx.request().getHeader("Upgrade"))) {
      Responses.error(ctx, 400, "INVALID_REQUEST", "The feed is a WebSocket: open it with a WebSocket client");
      return;
    }
    String origin = ctx.request().getHeader("Origin");
    if (origin != null && !origins.allowed(origin, ctx.request().getHeader("Host"))) {
      log.info("Feed handshake refused: origin {} is not allowed", origin.length() > 100 ? origin.substring(0, 100) : origin);
      Responses.error(ctx, 403, "ORIGIN_NOT_ALLOWED", "This origin may not open the feed");
      return;
    }
    String ticket = ctx.request().getParam("ticket");
    Future<Principal> early = ticket == null ? Future.succeededFuture(null) : redeem(ticket);
    early.onComplete(redeemed -> {
      if (redeemed.failed()) {
        Responses.error(ctx, 401, "UNAUTHORIZED", "The ticket is unknown, used or expired");
        return;
      }
      ctx.request().toWebSocket().onSuccess(ws -> accept(ws, redeemed.result()))
          .onFailure(failure -> log.debug("Feed upgrade failed: {}", failure.getMessage()));
    });
  }

  private void accept(ServerWebSocket ws, Principal ticketed) {
    ws.setWriteQueueMaxSize(writeQueueMaxBytes);
    Client client = new Client(ws);
    all.add(client);
    ws.closeHandler(v -> forget(client));
    ws.exceptionHandler(failure -> log.debug("Feed socket error: {}", failure.getMessage()));
    if (ticketed != null) {
      authenticated(client, ticketed);
    } else {
      long timer = vertx.setTimer(authTimeoutMs, id -> {
        if (client.principal == null) {
          client.close(CLOSE_UNAUTHORIZED, "authentication timeout");
        }
      });
      ws.textMessageHandler(text -> {
        if (client.principal != null || client.authenticating) {
          return;
        }
        String token = null;
        try {
          JsonObject message = new JsonObject(text);
          if ("auth".equals(message.getString("type"))) {
            token = message.getString("token");
          }
        } catch (RuntimeException e) {
          // answered below
        }
        if (token == null) {
          vertx.cancelTimer(timer);
          client.close(CLOSE_UNAUTHORIZED, "the first message must be {\"type\":\"auth\",\"token\":...}");
          return;
        }
        client.authenticating = true;
        auth.verify(token).onComplete(result -> {
          vertx.cancelTimer(timer);
          if (result.failed()) {
            client.close(CLOSE_UNAUTHORIZED, "unauthorized");
          } else {
            authenticated(client, result.result());
          }
        });
      });
    }
  }

  private void authenticated(Client client, Principal principal) {
    if (client.closed) {
      return;
    }
    client.principal = principal;
    // after authentication the client has nothing to say; a message from it is ignored
    client.ws.textMessageHandler(text -> { });
    // registered before the snapshot is read: a change arriving while it is read waits (coalesced) and is sent
    // right after it, in order, so the client's last word on each thing is the newest, and none is lost
    byUser.computeIfAbsent(principal.userId(), id -> new Clients()).add(client);
    if (principal.admin()) {
      operators.add(client);
    }
    snapshot(client);
  }

  /**
   * Reads the client's snapshot from health tracking and sends it first, then whatever changed while it was
   * read. While health does not answer the client is told so ({@code {"type":"unavailable"}}) instead, and
   * gets its snapshot once health answers again (see {@link #watchHealth()}).
   */
  private void snapshot(Client client) {
    Principal principal = client.principal;
    client.stale = false;
    client.hold();
    // shared with the other clients that need the same read, and sent only after this client was registered
    String owner = principal.admin() ? null : principal.userId();
    Future<JsonObject> connections = reads.read(owner == null ? "connections" : "connections:" + owner,
        () -> health.connections(owner));
    Future<JsonArray> institutions = reads.read("institutions", health::institutions);
    Future.join(connections, institutions).onComplete(done -> {
      if (client.closed) {
        return;
      }
      if (connections.failed() || institutions.failed()) {
        Throwable failure = connections.failed() ? connections.cause() : institutions.cause();
        log.debug("Feed snapshot not read: {}", failure.getMessage());
        client.stale = true;
        // told once: a client still waiting for health hears nothing more until its snapshot
        client.ready(client.told ? null : unavailable());
        client.told = true;
        return;
      }
      client.told = false;
      client.ready(new JsonObject().put("type", "snapshot")
          .put("user", new JsonObject().put("user_id", principal.userId()).put("admin", principal.admin()))
          .put("connections", connections.result().getJsonArray("connections", new JsonArray()))
          .put("institutions", institutions.result())
          .put("at", Instant.now().toString())
          .encode());
    });
  }

  private static String unavailable() {
    return new JsonObject().put("type", "unavailable").put("component", "health")
        .put("message", "Connection health is not available right now; a new snapshot follows when it is")
        .put("at", Instant.now().toString()).encode();
  }

  /**
   * Asks whether health tracking answers: when it stops, every client is told so once; when it answers
   * again, every client that was told (or whose snapshot could not be read) gets a new snapshot, since the
   * changes made meanwhile were never published.
   */
  private void watchHealth() {
    health.answers(pingTimeoutMs).onSuccess(answers -> {
      if (!answers) {
        if (healthAnswers) {
          log.info("Health tracking does not answer: telling {} feed client(s)", all.size());
        }
        healthAnswers = false;
        String text = unavailable();
        int written = 0;
        for (Client client : all.array()) {
          if (client.principal != null && !client.told) {
            client.stale = true;
            client.told = true;
            written += client.send("unavailable", text) ? 1 : 0;
          }
        }
        metrics.messages.increment(written);
        return;
      }
      if (!healthAnswers) {
        log.info("Health tracking answers again: new snapshots for the feed's clients");
      }
      healthAnswers = true;
      for (Client client : all.array()) {
        if (client.principal != null && client.stale && !client.closed) {
          snapshot(client);
        }
      }
    });
  }

  private void forget(Client client) {
    client.closed = true;
    all.remove(client);
    operators.remove(client);
    if (client.principal != null) {
      Clients set = byUser.get(client.principal.userId());
      if (set != null) {
        set.remove(client);
        if (set.isEmpty()) {
          byUser.remove(client.principal.userId());
        }
      }
    }
  }

  /** A single-use ticket for {@code ?ticket=}, valid for under a minute, kept in the cluster-wide map. */
  Future<JsonObject> issueTicket(Principal principal) {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    String ticket = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    JsonObject value = new JsonObject().put("user_id", principal.userId()).put("roles", new JsonArray(principal.roles()))
        .put("email", principal.email()).put("name", principal.name());
    return tickets().compose(map -> map.put(ticket, value, ticketTtlMs))
        .map(v -> new JsonObject().put("ticket", ticket).put("expires_in", ticketTtlMs / 1000));
  }

  private Future<Principal> redeem(String ticket) {
    if (ticket.length() > 100) {
      return Future.failedFuture("bad ticket");
    }
    return tickets().compose(map -> map.remove(ticket)).compose(value -> {
      if (value == null) {
        return Future.failedFuture("unknown ticket");
      }
      List<String> roles = new ArrayList<>();
      value.getJsonArray("roles", new JsonArray()).forEach(role -> roles.add(String.valueOf(role)));
      return Future.succeededFuture(new Principal(value.getString("user_id"), List.copyOf(roles),
          value.getString("email"), value.getString("name")));
    });
  }

  private Future<AsyncMap<String, JsonObject>> tickets() {
    return vertx.sharedData().getAsyncMap("http.feed-tickets");
  }

  // --- changes ------------------------------------------------------------------------------------------

  /** A connection's health changed: its owner's clients and every operator's hear of it. */
  void healthChanged(JsonObject connection, String userId) {
    String id = connection.getString("connection_id");
    String owner = userId != null ? userId : connection.getString("user_id");
    if (id == null) {
      return;
    }
    Clients owners = owner == null ? null : byUser.get(owner);
    if (owners == null && operators.isEmpty()) {
      return;
    }
    // encoded once for every recipient; the key says what a waiting message is about, for coalescing
    String text = new JsonObject().put("type", "health").put("connection", connection).encode();
    String key = "health:" + id;
    int written = 0;
    if (owners != null) {
      for (Client client : owners.array()) {
        written += client.send(key, text) ? 1 : 0;
      }
    }
    for (Client client : operators.array()) {
      if (owners == null || !owners.contains(client)) {
        written += client.send(key, text) ? 1 : 0;
      }
    }
    metrics.messages.increment(written);
  }

  /** An institution's health or circuit changed: not anyone's data, every client hears of it. */
  void institutionChanged(JsonObject institution) {
    String key = "institution:" + institution.getString("institution_id", "?");
    String text = new JsonObject().put("type", "institution").put("institution", institution).encode();
    int written = 0;
    for (Client client : all.array()) {
      if (client.principal != null) {
        written += client.send(key, text) ? 1 : 0;
      }
    }
    metrics.messages.increment(written);
  }

  /** A user's new notification: only that user's clients. */
  void notificationCreated(String userId, JsonObject notification) {
    Clients owners = userId == null ? null : byUser.get(userId);
    if (owners == null) {
      return;
    }
    String text = new JsonObject().put("type", "notification").put("notification", notification).encode();
    String key = "notification:" + notification.getString("id", String.valueOf(System.nanoTime()));
    int written = 0;
    for (Client client : owners.array()) {
      written += client.send(key, text) ? 1 : 0;
    }
    metrics.messages.increment(written);
  }

  private void heartbeat() {
    long now = System.currentTimeMillis();
    String text = new JsonObject().put("type", "heartbeat").put("at", Instant.ofEpochMilli(now).toString()).encode();
    int written = 0;
    for (Client client : all.array()) {
      if (client.principal == null) {
        continue;
      }
      if (client.behindSince > 0 && now - client.behindSince > maxBehindMs) {
        client.tooSlow(metrics.closedBehind, "client too slow: behind for more than " + maxBehindMs / 1000 + " s");
        continue;
      }
      written += client.send("heartbeat", text) ? 1 : 0;
    }
    metrics.messages.increment(written);
  }

  /**
   * A set of clients that a fan-out walks as an array: made again only on the first walk after the set
   * changed (not on every arrival, which would be quadratic when thousands connect at once), and safe to
   * walk while a client closed on the way (too slow) leaves the set.
   */
  private final class Clients {
    private static final Client[] NONE = new Client[0];
    private final Set<Client> set = new HashSet<>();
    private Client[] array = NONE;
    private boolean changed;

    void add(Client client) {
      changed |= set.add(client);
    }

    void remove(Client client) {
      changed |= set.remove(client);
    }

    boolean contains(Client client) {
      return set.contains(client);
    }

    boolean isEmpty() {
      return set.isEmpty();
    }

    int size() {
      return set.size();
    }

    Client[] array() {
      if (changed) {
        array = set.toArray(NONE);
        changed = false;
      }
      return array;
    }
  }

  /** One socket, its owner, and what is waiting for room in its write queue. */
  private final class Client {
    final ServerWebSocket ws;
    final LinkedHashMap<String, String> pending = new LinkedHashMap<>();
    Principal principal;
    boolean authenticating;
    boolean closed;
    /** The snapshot is sent: until then every change waits in {@code pending}, so the snapshot is first. */
    boolean ready;
    /** Told health is unavailable (or its snapshot could not be read): a new snapshot is due when health answers. */
    boolean stale;
    /** The last word on health this client had is "unavailable". */
    boolean told;
    long behindSince;

    Client(ServerWebSocket ws) {
      this.ws = ws;
    }

    /** Writes the message now when the socket has room (true), or leaves it waiting, coalesced by key (false). */
    boolean send(String key, String text) {
      if (closed) {
        return false;
      }
      if (ready && pending.isEmpty() && !ws.writeQueueFull()) {
        ws.writeTextMessage(text);
        return true;
      }
      // a newer message about the same thing replaces the waiting one, keeping its place in line
      if (pending.put(key, text) == null) {
        pendingTotal++;
      } else {
        metrics.coalesced.increment();
      }
      if (ready && behindSince == 0) {
        behindSince = System.currentTimeMillis();
        ws.drainHandler(v -> flush());
      }
      if (pending.size() > maxPending) {
        tooSlow(metrics.closedPending, "client too slow: more than " + maxPending + " changes waiting");
      }
      return false;
    }

    /**
     * A (new) snapshot is about to be read: changes wait from now on, and what was waiting before is older
     * than the snapshot and goes (notifications stay: the snapshot does not hold them).
     */
    void hold() {
      ready = false;
      behindSince = 0;
      ws.drainHandler(null);
      int before = pending.size();
      pending.keySet().removeIf(key -> !key.startsWith("notification:"));
      // superseded by the snapshot about to be read
      metrics.coalesced.increment(before - pending.size());
      pendingTotal -= before - pending.size();
    }

    /** The snapshot goes first, then whatever changed while it was read. */
    void ready(String snapshot) {
      if (closed) {
        return;
      }
      if (snapshot != null) {
        ws.writeTextMessage(snapshot);
        metrics.messages.increment();
      }
      ready = true;
      flush();
    }

    void flush() {
      var it = pending.entrySet().iterator();
      int written = 0;
      while (it.hasNext() && !closed && !ws.writeQueueFull()) {
        ws.writeTextMessage(it.next().getValue());
        it.remove();
        written++;
      }
      pendingTotal -= written;
      metrics.messages.increment(written);
      if (pending.isEmpty()) {
        behindSince = 0;
        ws.drainHandler(null);
      } else if (behindSince == 0 && !closed) {
        behindSince = System.currentTimeMillis();
        ws.drainHandler(v -> flush());
      }
    }

    /** Closed as too slow: counted with its reason, and what it had waiting is dropped. */
    void tooSlow(Counter reason, String text) {
      if (!closed) {
        reason.increment();
        metrics.dropped.increment(pending.size());
        close(CLOSE_TOO_SLOW, text);
      }
    }

    void close(short code, String reason) {
      if (closed) {
        return;
      }
      closed = true;
      pendingTotal -= pending.size();
      pending.clear();
      forget(this);
      ws.close(code, reason).onFailure(failure -> log.debug("Feed close failed: {}", failure.getMessage()));
    }
  }
}
