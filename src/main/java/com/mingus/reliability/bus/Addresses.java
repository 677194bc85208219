package com.mingus.reliability.bus;

/**
 * Every event bus address. Commands are {@code <owner>.<verb>} and answered by one owner; events are past
 * tense and published to whoever listens.
 */
public final class Addresses {
  private Addresses() {}

  /** Suffix of each component's liveness address: {@code <component>.ping} answers a {@link PingReply}. */
  public static final String PING_SUFFIX = ".ping";

  /** Liveness of the shared database, answered by the database monitor with a {@link PingReply}. */
  public static final String DB_PING = "db" + PING_SUFFIX;
  /** Liveness of the HTTP verticle instances. */
  public static final String HTTP_PING = "http" + PING_SUFFIX;
  /** Liveness of sync scheduling (and its database pool). */
  public static final String SYNC_PING = "sync" + PING_SUFFIX;
  /** Liveness of the rate limiter. */
  public static final String RATELIMIT_PING = "ratelimit" + PING_SUFFIX;
  /** Liveness of notification delivery (and its database pool). */
  public static final String NOTIFY_PING = "notify" + PING_SUFFIX;
  /** Liveness of the Plaid sandbox, where it runs. */
  public static final String SANDBOX_PING = "sandbox" + PING_SUFFIX;

  // sync scheduling: commands (JSON bodies from the HTTP edge, each with the caller's user_id)
  /** Register a connection from a public token: {user_id, public_token} → the connection. */
  public static final String SYNC_REGISTER = "sync.register";
  /** Remove a connection at Plaid and here: {user_id, connection_id} → {removed}. */
  public static final String SYNC_REMOVE = "sync.remove";
  /** Queue a sync now at the highest priority: {user_id, connection_id} → {sync_id}. */
  public static final String SYNC_NOW = "sync.now";
  /** Re-queue a failed sync (and lift a wait for the user): {user_id, connection_id} → {retry_count, last_retry_attempt}. */
  public static final String SYNC_RETRY = "sync.retry";
  /** An operator asks for a reconciliation with Plaid's history now: {connection_id} → {sync_id, queued_at}. */
  public static final String SYNC_RECONCILE = "sync.reconcile";
  /**
   * Reconciliations, newest first, a page at a time ({@link PageCursor}): {connection_id?, limit?, cursor?} →
   * {reconciliations, next_cursor, has_more}; without connection_id, every connection's, with the last day's {totals}.
   */
  public static final String SYNC_RECONCILIATIONS = "sync.reconciliations";
  /** Sync logs and reliability stats of one connection: {user_id, connection_id, days?}. */
  public static final String SYNC_STATUS = "sync.status";
  /** A connection's accounts with their last known balances: {user_id, connection_id} → {accounts}. */
  public static final String SYNC_ACCOUNTS = "sync.accounts";
  /** A page of stored transactions ({@link PageCursor}): {user_id, connection_id, since?, limit?, cursor?} → {transactions, next_cursor, has_more}. */
  public static final String SYNC_TRANSACTIONS = "sync.transactions";
  /** The registry: {user_id?} (absent = every connection, for operators and health) → {connections}. */
  public static final String SYNC_CONNECTIONS = "sync.connections";
  /** A Link token in update mode for reconnecting: {user_id, connection_id} → {link_token, expiration}. */
  public static final String SYNC_LINK_TOKEN = "sync.link_token";
  /** A verified Plaid webhook, as Plaid sent it (webhook_type, webhook_code, item_id, ...). */
  public static final String SYNC_WEBHOOK = "sync.webhook";
  /** Health asks sync to leave an institution's connections alone: {institution_id, reason, until?}. */
  public static final String SYNC_PAUSE_INSTITUTION = "sync.pause_institution";
  /** Health lets an institution's connections sync again: {institution_id}. */
  public static final String SYNC_RESUME_INSTITUTION = "sync.resume_institution";
  /** Health's half-open probe: sync one connection of a paused institution now: {institution_id} → {connection_id}. */
  public static final String SYNC_PROBE_INSTITUTION = "sync.probe_institution";
  /**
   * Syncs a bank's connections now, spread over {@code spread_ms}, ahead of a known or predicted maintenance
   * window (body: institution_id, spread_ms); idempotent: a connection already due is left as it is.
   */
  public static final String SYNC_AHEAD_INSTITUTION = "sync.ahead_institution";
  /**
   * Operator readout of the access-token keys: {} → {primary_key_id, configured_key_ids, keys: [{key_id, rows,
   * unreadable, configured, primary}], rows_under_old_keys, unreadable} (key ids and counts only, never a key).
   */
  public static final String SYNC_KEYS = "sync.keys";
  /** Local to a node: a claimable sync was queued, claim now rather than at the next poll. */
  public static final String SYNC_WAKE = "sync.wake";

  // sync scheduling: events ({@link SyncEvent} bodies, published to anyone watching; health tracking gets
  // each one, except sync.started, through sync's outbox and health.apply, at least once)
  /** A connection was registered. */
  public static final String CONNECTION_REGISTERED = "connection.registered";
  /** A connection was removed. */
  public static final String CONNECTION_REMOVED = "connection.removed";
  /** A Plaid ITEM webhook about a connection (LOGIN_REPAIRED, PENDING_EXPIRATION, ERROR, ...). */
  public static final String CONNECTION_ITEM_EVENT = "connection.item_event";
  /** A sync began. */
  public static final String SYNC_STARTED = "sync.started";
  /** A sync finished and its changes are stored. */
  public static final String SYNC_COMPLETED = "sync.completed";
  /** A sync failed; the event carries the Plaid failure and its classification. */
  public static final String SYNC_FAILED = "sync.failed";

  // rate limiting: one budget per Plaid endpoint (client-wide) and per Item
  /** Asks for a permit to call Plaid: {@link PermitRequest} answered by {@link PermitReply}. */
  public static final String RATELIMIT_ACQUIRE = "ratelimit.acquire";
  /** Tells the limiter Plaid answered 429: {@link RateLimitReport} answered by {@link RateLimitReportReply}. */
  public static final String RATELIMIT_REPORT = "ratelimit.report";
  /** Budgets, use and cool-downs: {@link RateLimitStatusRequest} answered by {@link RateLimitStatus}. */
  public static final String RATELIMIT_STATUS = "ratelimit.status";

  // error classification
  /** Classify a failed Plaid call: a {@link ClassifyRequest} is answered with a {@link Classification}. */
  public static final String CLASSIFY_ERROR = "classify.error";
  /** Report a successful Plaid call ({@link ClassifyOutcome}, send, no reply) so the retry budget counts it. */
  public static final String CLASSIFY_OUTCOME = "classify.outcome";
  /** Liveness of the classification verticle. */
  public static final String CLASSIFY_PING = "classify" + PING_SUFFIX;

  // health tracking: commands (JSON bodies from the HTTP edge; user_id absent = an operator, every connection)
  /** Every connection's health: {user_id?} → {connections: [ConnectionHealth], total_connections, healthy_connections, degraded_connections, error_connections}. */
  public static final String HEALTH_CONNECTIONS = "health.connections";
  /** One connection's health: {user_id?, connection_id} → ConnectionHealth JSON; another user's → NOT_FOUND. */
  public static final String HEALTH_CONNECTION = "health.connection";
  /** The seed's reliability overview: {user_id?} → {connections: {...}, sync: {...}, reliability_score}. */
  public static final String HEALTH_OVERVIEW = "health.overview";
  /** One connection's reliability: {user_id?, connection_id, days?} → {connection, reliability_stats, health_counts}. */
  public static final String HEALTH_CONNECTION_METRICS = "health.connection_metrics";
  /** Every known bank: {} → {institutions: [InstitutionHealth]} with circuit state, Plaid status, success rates. */
  public static final String HEALTH_INSTITUTIONS = "health.institutions";
  /**
   * Apply one of sync's events ({@link SyncEvent}) and answer once it is applied and committed, or was
   * applied before: {applied, duplicate}. Sync's outbox relay sends it to its own node's health (local
   * consumers) and again, from any node, while no answer came (docs/cluster.md).
   */
  public static final String HEALTH_APPLY = "health.apply";
  /** Liveness of the health tracking verticle. */
  public static final String HEALTH_PING = "health" + PING_SUFFIX;

  // health tracking: events (published, coalesced per connection / institution)
  /** A connection's health changed: a {@link ConnectionHealth} (the latest state within the coalescing interval). */
  public static final String HEALTH_CHANGED = "health.changed";
  /** A bank's health changed: an {@link InstitutionHealth} (circuit, status, success rates, maintenance window). */
  public static final String INSTITUTION_CHANGED = "institution.changed";


  // notification delivery (owner: notify). Bodies are the Notify*/Notification* records of this package,
  // except the operator commands, which take and answer JsonObject (documented in docs/notify.md).
  /** Command: {@link NotifySend} → {@link NotifySendResult}; writes a notification and its deliveries to the outbox. */
  public static final String NOTIFY_SEND = "notify.send";
  /** Command: {@link NotifySendTest} → {@link NotifyTestResult}; the seed's send-test, after a bounded wait. */
  public static final String NOTIFY_SEND_TEST = "notify.send_test";
  /** Command: {@link NotifyList} → {@link NotificationPage}; a user's in-app notifications, newest first. */
  public static final String NOTIFY_LIST = "notify.list";
  /** Command: {@link NotifyMarkRead} → {@link NotificationView}; another user's id fails NOT_FOUND. */
  public static final String NOTIFY_MARK_READ = "notify.mark_read";
  /** Command: {@link NotifyPreferencesGet} → {@link NotifyPreferences}. */
  public static final String NOTIFY_PREFERENCES_GET = "notify.preferences.get";
  /** Command: {@link NotifyPreferences} → {@link NotifyPreferences} as stored. */
  public static final String NOTIFY_PREFERENCES_PUT = "notify.preferences.put";
  /** Command: {@link NotifyDeliveries} (query) → {@link NotifyDeliveries}; every delivery and attempt of a notification. */
  public static final String NOTIFY_DELIVERIES = "notify.deliveries";
  /** Operator command: {} → {"templates": [...]}; the stored templates of every type. */
  public static final String NOTIFY_TEMPLATES_LIST = "notify.templates.list";
  /** Operator command: {"type", fields to change...} → the stored template; placeholders are checked. */
  public static final String NOTIFY_TEMPLATES_PUT = "notify.templates.put";
  /**
   * Operator command: {"type", "channel", "body", "subject"?, "body_html"?, "updated_by"?} → that channel's template
   * ({type, channel, subject|title, body, body_html?, variables, version, ...}); checked like a preview, then saved.
   */
  public static final String NOTIFY_TEMPLATES_EDIT = "notify.templates.edit";
  /** Operator command: {"type", "channel", draft texts?, "variables"?} → {"rendered": {subject?, body, body_html?}, "variables"}; saves nothing. */
  public static final String NOTIFY_TEMPLATES_PREVIEW = "notify.templates.preview";
  /** Event: {"type"}; a template was saved, so every notify instance on every node reloads before its next send. */
  public static final String NOTIFY_TEMPLATES_CHANGED = "notify.templates.changed";
  /**
   * Operator command: {"limit"?, "cursor"?} → {"dead_letters": [...], "total", "limit", "next_cursor", "has_more"} ({@link PageCursor});
   * deliveries that failed their last attempt, newest first (targets redacted).
   */
  public static final String NOTIFY_DEAD_LETTERS_LIST = "notify.dead_letters.list";
  /**
   * Operator command: {"delivery_id"} or {"all": true} → {"redriven": n}; dead letters go back to the outbox (same
   * row, same idempotency key). One id that is not dead-lettered fails NOT_FOUND (no such delivery) or CONFLICT.
   */
  public static final String NOTIFY_DEAD_LETTERS_REDRIVE = "notify.dead_letters.redrive";
  /**
   * Operator command: {"limit"?, "cursor"?, "kind"?} → {"alerts": [{id, kind, severity, title, message, data, institution_id,
   * connection_id, notification_id, deliveries: [{channel, status, attempts}], created_at}], total, limit, next_cursor, has_more}
   * ({@link PageCursor}); operator alerts (circuit_open, dead_letter, reconciliation_drift), newest first.
   */
  public static final String NOTIFY_ALERTS_LIST = "notify.alerts.list";
  /**
   * Operator command: {"broadcast_id"?, "type" (system_maintenance|feature_update|compliance_update), "message", "title"?,
   * "segment": {all: true} | {user_ids} | {institution_id} | {status}, "requested_by"?} → {broadcast_id, recipients, duplicate};
   * one notification per user of the segment, all written in one transaction; a re-post of a broadcast_id sends nothing
   * (CONFLICT when it names a different broadcast).
   */
  public static final String NOTIFY_BROADCAST = "notify.broadcast";
  /** Command: {"limit"} → {"messages": [{subject, to, from, message_id, received_at}], "enabled"}; the embedded SMTP sink's last mails. */
  public static final String NOTIFY_SINK_MESSAGES = "notify.sink.messages";
  /** Command: {"user_id", "subscription": {endpoint, keys}} → {@link NotifyPreferences}; adds (or refreshes) one Web Push subscription. */
  public static final String NOTIFY_PUSH_SUBSCRIBE = "notify.push.subscribe";
  /** Command: {"user_id", "endpoint"} → {@link NotifyPreferences}; removes one Web Push subscription. */
  public static final String NOTIFY_PUSH_UNSUBSCRIBE = "notify.push.unsubscribe";
  /** Command: {} → {"public_key"}; the VAPID application server key browsers subscribe with. */
  public static final String NOTIFY_VAPID_KEY = "notify.push.vapid_key";
  /** Event: {@link NotificationCreated}; a user's new in-app notification, for the live feed. */
  public static final String NOTIFICATION_CREATED = "notification.created";

  // the HTTP edge
  /** Event: a verified Plaid webhook (JsonObject, as Plaid sent it), for health tracking and anyone watching. */
  public static final String PLAID_WEBHOOK_RECEIVED = "plaid.webhook_received";

  /** The ping address of a named component. */
  public static String ping(String component) {
    return component + PING_SUFFIX;
  }

  // rate limiting's own addresses: its instances on one node, and the budget owner of a cluster

  /**
   * The prefix of one rate-limit deployment's shard addresses (local to the node): {@code <prefix><shard>.acquire},
   * {@code .report} and {@code .status}, each answered by the instance owning that shard of the endpoints.
   */
  public static String rateLimitShards(String deploymentId) {
    return "ratelimit.shard." + deploymentId + ".";
  }

  /** A rate-limit shard's command address: {@code verb} acquire, report or status. */
  public static String rateLimitShard(String shardPrefix, int shard, String verb) {
    return shardPrefix + shard + "." + verb;
  }

  /**
   * The cluster-wide address of the node owning one endpoint's budget ({@code verb} acquire, report or status),
   * registered by that owner only while it holds the budget's lease.
   */
  public static String rateLimitOwner(String endpoint, String verb) {
    return "ratelimit.cluster:" + endpoint + "." + verb;
  }
}
