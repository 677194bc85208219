package com.mingus.reliability.notify;

/**
 * What one attempt came to. {@link Kind#RETRY} goes back to the outbox on the channel's schedule;
 * {@link Kind#FAILED} is final; {@link Kind#GONE} is final and the endpoint is turned off.
 */
record SendOutcome(Kind kind, String providerMessageId, String error, long retryAfterMs) {
  enum Kind { SENT, RETRY, FAILED, GONE, SKIPPED }

  static SendOutcome sent(String providerMessageId) {
    return new SendOutcome(Kind.SENT, providerMessageId, null, 0);
  }

  static SendOutcome retry(String error) {
    return new SendOutcome(Kind.RETRY, null, error, 0);
  }

  static SendOutcome retry(String error, long retryAfterMs) {
    return new SendOutcome(Kind.RETRY, null, error, retryAfterMs);
  }

  static SendOutcome failed(String error) {
    return new SendOutcome(Kind.FAILED, null, error, 0);
  }

  static SendOutcome gone(String error) {
    return new SendOutcome(Kind.GONE, null, error, 0);
  }

  static SendOutcome skipped(String reason) {
    return new SendOutcome(Kind.SKIPPED, null, reason, 0);
  }

  /** The usual reading of an HTTP status by a provider: 2xx sent, 404/410 gone, 408/429/5xx retry, else final. */
  static SendOutcome ofHttp(int status, String providerMessageId, String detail, long retryAfterMs, boolean goneOn404) {
    if (status >= 200 && status < 300) {
      return sent(providerMessageId);
    }
    String error = "HTTP " + status + (detail == null || detail.isBlank() ? "" : ": " + detail);
    if (status == 410 || (goneOn404 && status == 404)) {
      return gone(error);
    }
    if (status == 408 || status == 425 || status == 429 || status >= 500) {
      return retry(error, retryAfterMs);
    }
    return failed(error);
  }
}
