package com.mingus.reliability.bus;

/** A connection's state as the contract shows it (DESIGN.md): lower-case words on the wire. */
public enum ConnectionStatus {
  ACTIVE,
  DEGRADED,
  ERROR,
  RATE_LIMITED,
  MAINTENANCE,
  REQUIRES_REAUTH,
  PENDING_EXPIRATION,
  DISCONNECTED;

  public String wire() {
    return WireEnums.wire(this);
  }

  /** Lenient: unknown or missing is {@link #ERROR}. */
  public static ConnectionStatus fromWire(Object value) {
    return WireEnums.parse(ConnectionStatus.class, value, ERROR);
  }
}
