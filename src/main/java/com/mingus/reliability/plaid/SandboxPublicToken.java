package com.mingus.reliability.plaid;

/** The answer of {@code /sandbox/public_token/create}: a public token to exchange. */
public record SandboxPublicToken(String publicToken, String requestId) {

  @Override
  public String toString() {
    return "SandboxPublicToken[publicToken=" + Tokens.mask(publicToken) + ", requestId=" + requestId + "]";
  }
}
