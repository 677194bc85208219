package com.mingus.reliability.bus;

/** What the user has to do before a connection can work again; wire values are lower-case. */
public enum UserAction {
  /** Sign in again through Plaid Link in update mode (the Item stays, its access token stays). */
  RECONNECT,
  /** Fix something on the bank's own site first (unlock, reset the password, finish setup), then reconnect. */
  FIX_AT_BANK,
  /** The Item is gone for good: link the bank again from scratch (a new Item). */
  RELINK,
  /** Nothing the user can fix; our side (configuration, a bug, our Plaid allowance) must act. */
  CONTACT_SUPPORT,
  /** Nothing to do: the failure is ours to ride out. */
  NONE;

  public String wire() {
    return WireEnums.wire(this);
  }

  public static UserAction fromWire(Object value) {
    return WireEnums.parse(UserAction.class, value, NONE);
  }
}
