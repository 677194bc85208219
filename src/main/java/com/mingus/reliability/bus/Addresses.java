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

  // rate limiting: one budget per Plaid endpoint (client-wide) and per Item
  /** Asks for a permit to call Plaid: {@link PermitRequest} answered by {@link PermitReply}. */
  public static final String RATELIMIT_ACQUIRE = "ratelimit.acquire";
  /** Tells the limiter Plaid answered 429: {@link RateLimitReport} answered by {@link RateLimitReportReply}. */
  public static final String RATELIMIT_REPORT = "ratelimit.report";
  /** Budgets, use and cool-downs: {@link RateLimitStatusRequest} answered by {@link RateLimitStatus}. */
  public static final String RATELIMIT_STATUS = "ratelimit.status";

  /** The ping address of a named component. */
  public static String ping(String component) {
    return component + PING_SUFFIX;
  }
}
