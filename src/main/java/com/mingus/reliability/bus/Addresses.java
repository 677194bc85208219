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

  // error classification
  /** Classify a failed Plaid call: a {@link ClassifyRequest} is answered with a {@link Classification}. */
  public static final String CLASSIFY_ERROR = "classify.error";
  /** Report a successful Plaid call ({@link ClassifyOutcome}, send, no reply) so the retry budget counts it. */
  public static final String CLASSIFY_OUTCOME = "classify.outcome";
  /** Liveness of the classification verticle. */
  public static final String CLASSIFY_PING = "classify" + PING_SUFFIX;

  /** The ping address of a named component. */
  public static String ping(String component) {
    return component + PING_SUFFIX;
  }
}
