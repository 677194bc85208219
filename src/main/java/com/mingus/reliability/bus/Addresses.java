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
  /** Operator command: {"limit"} → {"dead_letters": [...]}; deliveries that failed their last attempt. */
  public static final String NOTIFY_DEAD_LETTERS_LIST = "notify.dead_letters.list";
  /** Operator command: {"delivery_id"} or {"all": true} → {"redriven": n}; dead letters go back to the outbox. */
  public static final String NOTIFY_DEAD_LETTERS_REDRIVE = "notify.dead_letters.redrive";
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

  /** The ping address of a named component. */
  public static String ping(String component) {
    return component + PING_SUFFIX;
  }
}
