package com.mingus.reliability.plaid;

import com.mingus.reliability.bus.PlaidFailure;
import com.mingus.reliability.bus.TransportFailure;

/**
 * A failed call to Plaid: either Plaid's own error object ({@link #error()} set) or no usable Plaid answer
 * ({@link #transport()} set). The message names the endpoint, the error type and code or the transport
 * kind, the HTTP status and the request id; never a request body, a token or a secret.
 */
public final class PlaidException extends RuntimeException {
  private final String endpoint;
  private final int httpStatus;
  private final transient PlaidError error;
  private final TransportFailure transport;
  private final String requestId;
  private final String retryAfter;
  private final Long retryAfterSeconds;

  PlaidException(String endpoint, int httpStatus, PlaidError error, TransportFailure transport, String requestId,
      String retryAfter, Long retryAfterSeconds, String detail, Throwable cause) {
    // No stack trace: these are expected outcomes of remote calls, and the cause keeps the I/O trace.
    super(message(endpoint, httpStatus, error, transport, requestId, detail), cause, false, false);
    this.endpoint = endpoint;
    this.httpStatus = httpStatus;
    this.error = error;
    this.transport = transport;
    this.requestId = requestId;
    this.retryAfter = retryAfter;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** The Plaid path called, e.g. {@code /transactions/sync}. */
  public String endpoint() {
    return endpoint;
  }

  /** The HTTP status received, or 0 when no response arrived. */
  public int httpStatus() {
    return httpStatus;
  }

  /** Plaid's error object, or null when Plaid did not answer with one. */
  public PlaidError error() {
    return error;
  }

  /** Why there was no Plaid answer, or null when Plaid answered with its error object. */
  public TransportFailure transport() {
    return transport;
  }

  /** The request id from the error body (or the response, or the Plaid-Request-Id header), if any. */
  public String requestId() {
    return requestId;
  }

  /** The Retry-After header as received, or null. */
  public String retryAfter() {
    return retryAfter;
  }

  /** The Retry-After header in seconds from receipt (delta-seconds or HTTP-date), or null. */
  public Long retryAfterSeconds() {
    return retryAfterSeconds;
  }

  /** True when Plaid answered with its error object. */
  public boolean isPlaidError() {
    return error != null;
  }

  /** True when Plaid's error has this code (false for transport failures). */
  public boolean hasErrorCode(String code) {
    return error != null && code.equals(error.errorCode());
  }

  /** The transport-neutral shape that crosses the event bus. */
  public PlaidFailure toFailure() {
    Integer status = httpStatus == 0 ? null : httpStatus;
    if (error != null) {
      return new PlaidFailure(endpoint, error.errorType(), error.errorCode(), error.errorMessage(),
          error.displayMessage(), error.errorCodeReason(), requestId, status, retryAfterSeconds, null);
    }
    return new PlaidFailure(endpoint, null, null, null, null, null, requestId, status, retryAfterSeconds,
        transport == null ? TransportFailure.OTHER : transport);
  }

  /**
   * The bus shape of any failure of a Plaid call: a PlaidException's own, or, for anything else that
   * failed the future (a programming error, a rejected argument), a transport failure classified from it.
   */
  public static PlaidFailure failureOf(Throwable failure, String endpoint) {
    if (failure instanceof PlaidException plaid) {
      return plaid.toFailure();
    }
    return PlaidFailure.transport(endpoint, TransportErrors.classify(failure), null);
  }

  private static String message(String endpoint, int httpStatus, PlaidError error, TransportFailure transport,
      String requestId, String detail) {
    StringBuilder text = new StringBuilder("Plaid ").append(endpoint).append(": ");
    if (error != null) {
      text.append(error.label());
    } else {
      text.append(transport);
    }
    if (httpStatus != 0) {
      text.append(" (HTTP ").append(httpStatus).append(')');
    }
    if (detail != null && !detail.isEmpty()) {
      text.append(" - ").append(detail);
    }
    if (requestId != null) {
      text.append(" [request_id ").append(requestId).append(']');
    }
    return text.toString();
  }
}
