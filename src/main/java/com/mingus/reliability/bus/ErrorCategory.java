package com.mingus.reliability.bus;

/**
 * What kind of failure a Plaid call met: the seed's {@code PlaidErrorType}, named apart from Plaid's own
 * {@code error_type}. On the wire it is the seed's lower-case value ({@code "bank_maintenance"}), which is
 * also the key of its retry strategy in {@code classify.retry_strategies}.
 */
public enum ErrorCategory {
  CONNECTION_FAILURE,
  BANK_MAINTENANCE,
  RATE_LIMIT_EXCEEDED,
  AUTHENTICATION_ERROR,
  INSTITUTION_ERROR,
  ITEM_ERROR,
  PRODUCT_NOT_AVAILABLE,
  INVALID_REQUEST,
  INTERNAL_ERROR,
  UNKNOWN_ERROR;

  public String wire() {
    return WireEnums.wire(this);
  }

  /** Lenient: any case; unknown or missing is {@link #UNKNOWN_ERROR}. */
  public static ErrorCategory fromWire(Object value) {
    return WireEnums.parse(ErrorCategory.class, value, UNKNOWN_ERROR);
  }
}
