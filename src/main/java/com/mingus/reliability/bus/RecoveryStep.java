package com.mingus.reliability.bus;

/** What the caller does next after a classified failure; wire values are lower-case. */
public enum RecoveryStep {
  /** Try the same request again after {@code delay_ms}. */
  RETRY,
  /** Throw the pages fetched so far away and restart the sync from the update's first cursor, now. */
  RESTART_PAGINATION,
  /** Do not retry: a webhook (PRODUCT_READY / SYNC_UPDATES_AVAILABLE) says when; poll once at {@code next_retry_at} in case it is lost. */
  WAIT_FOR_WEBHOOK,
  /** The institution's retry budget is spent: wait {@code delay_ms}, then try again; do not retry sooner. */
  WAIT_FOR_BUDGET,
  /** Park the connection until the user acts (Link update mode, the bank) or LOGIN_REPAIRED arrives. */
  WAIT_FOR_USER,
  /** Fast retries are used up: mark the connection, go back to the periodic schedule at {@code next_retry_at}. */
  FALL_BACK_TO_SCHEDULE,
  /** Nothing will succeed by repeating it (our bug, configuration, a removed Item): stop and surface it. */
  STOP,
  /** A warning, not a failed request: carry on as scheduled and tell the user. */
  CONTINUE;

  public String wire() {
    return WireEnums.wire(this);
  }

  public static RecoveryStep fromWire(Object value) {
    return WireEnums.parse(RecoveryStep.class, value, STOP);
  }
}
