package com.mingus.reliability.notify;

import com.mingus.reliability.bus.Commands.CommandFailure;
import com.mingus.reliability.bus.FailureCodes;

/** A deliberate refusal of a request, carrying the failure code the caller sees. */
final class Refusal extends CommandFailure {
  private Refusal(int code, String message) {
    super(code, message);
  }

  static Refusal invalid(String message) {
    return new Refusal(FailureCodes.INVALID_REQUEST, message);
  }

  static Refusal conflict(String message) {
    return new Refusal(FailureCodes.CONFLICT, message);
  }

  public static Refusal notFound(String message) {
    return new Refusal(FailureCodes.NOT_FOUND, message);
  }
}
