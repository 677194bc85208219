package com.mingus.reliability.plaid;

/** The answer of {@code /item/public_token/exchange}: the Item's access token and id. */
public record PublicTokenExchange(String accessToken, String itemId, String requestId) {

  @Override
  public String toString() {
    return "PublicTokenExchange[accessToken=" + Tokens.mask(accessToken) + ", itemId=" + itemId
        + ", requestId=" + requestId + "]";
  }
}
