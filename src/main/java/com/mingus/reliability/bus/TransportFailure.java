package com.mingus.reliability.bus;

import java.util.Locale;

/**
 * Why a call to Plaid produced no Plaid answer (no {@code PlaidError} and no usable result). Carried by
 * the Plaid client's exception and by {@link PlaidFailure} over the bus; absent when Plaid answered with
 * its own error object.
 */
public enum TransportFailure {
  /** No connection, no first byte, or no complete answer within the connect, idle or total timeout. */
  TIMEOUT,
  /** The connection was closed or reset before a full answer arrived. */
  CONNECTION_RESET,
  /** The host refused the connection (nothing listening) or could not be reached. */
  CONNECTION_REFUSED,
  /** The host name did not resolve. */
  DNS,
  /** The TLS handshake or TLS record layer failed (certificate, protocol, plain text on a TLS port). */
  TLS,
  /** A success status whose body is not JSON, or JSON but not an object. */
  NOT_JSON,
  /** An error status whose body is not a Plaid error object (a proxy's HTML page, an empty body, foreign JSON). */
  HTTP_STATUS,
  /** A success status with a JSON object that lacks what the endpoint must return. */
  BAD_RESPONSE,
  /** The answer was larger than the configured limit. */
  TOO_LARGE,
  /** Any other local or I/O failure. */
  OTHER;

  /** The kind with this name, or {@link #OTHER} for a name this version does not know (a newer peer's). */
  public static TransportFailure parse(String name) {
    if (name == null) {
      return null;
    }
    try {
      return valueOf(name.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException unknown) {
      return OTHER;
    }
  }
}
