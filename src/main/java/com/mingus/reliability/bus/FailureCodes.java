package com.mingus.reliability.bus;

/**
 * Failure codes carried by {@code message.fail(code, text)}. Explicit numbers, never ordinals, so that a
 * code keeps its meaning across versions and nodes. The HTTP verticle maps them to statuses in one place.
 */
public final class FailureCodes {
  private FailureCodes() {}

  /** The request body is missing a field, has a wrong type or a value out of range. */
  public static final int INVALID_REQUEST = 4000;
  /** The thing named does not exist, or belongs to someone else. */
  public static final int NOT_FOUND = 4004;
  /** The request conflicts with the current state (already registered, already removed). */
  public static final int CONFLICT = 4009;
  /** Too many requests from this caller; retry later. */
  public static final int RATE_LIMITED = 4029;
  /** An internal fault in the recipient. */
  public static final int INTERNAL = 5000;
  /** Plaid answered with an error the caller should see. */
  public static final int UPSTREAM = 5002;
  /** A dependency (the database, Plaid) is not available right now. */
  public static final int UNAVAILABLE = 5003;
}
