package com.mingus.reliability.notify;

import com.mingus.reliability.bus.FailureCodes;

/** A deliberate refusal of a request, carrying the failure code the caller sees. */
final class Refusal extends RuntimeException {
  final int code;

  private Refusal(int code, String message) {
    super(message, null, false, false);
    this.code = code;
  }

  static Refusal invalid(String message) {
    return new Refusal(FailureCodes.INVALID_REQUEST, message);
  }

  static Refusal conflict(String message) {
    return new Refusal(FailureCodes.CONFLICT, message);
  }

  static Refusal notFound(String message) {
    return new Refusal(FailureCodes.NOT_FOUND, message);
  }
}
