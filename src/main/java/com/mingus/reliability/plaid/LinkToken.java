package com.mingus.reliability.plaid;

import java.time.Instant;

/** The answer of {@code /link/token/create}. */
public record LinkToken(String linkToken, Instant expiration, String requestId) {

  @Override
  public String toString() {
    return "LinkToken[linkToken=" + Tokens.mask(linkToken) + ", expiration=" + expiration + ", requestId=" + requestId + "]";
  }
}
