package com.mingus.reliability.plaid;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * A {@code /link/token/create} call in update mode: a Link token that lets the user repair an existing
 * Item (re-enter credentials, renew consent). Products are omitted, as update mode requires.
 *
 * @param clientName   shown in Link (at most 30 characters are displayed)
 * @param clientUserId the MINGUS user id, as Plaid's {@code user.client_user_id}
 * @param webhook      where Plaid sends this Item's webhooks, or null to leave it unchanged
 * @param redirectUri  the OAuth redirect URI registered with Plaid, or null
 */
public record LinkUpdateRequest(
    String accessToken,
    String clientName,
    String language,
    List<String> countryCodes,
    String clientUserId,
    String webhook,
    String redirectUri,
    boolean accountSelectionEnabled) {

  public LinkUpdateRequest {
    if (accessToken == null || accessToken.isEmpty() || clientName == null || clientName.isEmpty()
        || clientUserId == null || clientUserId.isEmpty()) {
      throw new IllegalArgumentException("access token, client name and client user id required");
    }
    language = language == null || language.isEmpty() ? "en" : language;
    countryCodes = countryCodes == null || countryCodes.isEmpty() ? List.of("US") : List.copyOf(countryCodes);
  }

  /** Update mode with English, the US and no webhook or redirect change. */
  public static LinkUpdateRequest of(String accessToken, String clientName, String clientUserId) {
    return new LinkUpdateRequest(accessToken, clientName, "en", List.of("US"), clientUserId, null, null, false);
  }

  JsonObject toJson() {
    JsonObject body = new JsonObject()
        .put("client_name", clientName)
        .put("language", language)
        .put("country_codes", new JsonArray(countryCodes))
        .put("user", new JsonObject().put("client_user_id", clientUserId))
        .put("access_token", accessToken);
    if (webhook != null) {
      body.put("webhook", webhook);
    }
    if (redirectUri != null) {
      body.put("redirect_uri", redirectUri);
    }
    if (accountSelectionEnabled) {
      body.put("update", new JsonObject().put("account_selection_enabled", true));
    }
    return body;
  }

  @Override
  public String toString() {
    return "LinkUpdateRequest[accessToken=" + Tokens.mask(accessToken) + ", clientName=" + clientName + ", language="
        + language + ", countryCodes=" + countryCodes + ", clientUserId=" + clientUserId + ", webhook=" + webhook
        + ", redirectUri=" + redirectUri + ", accountSelectionEnabled=" + accountSelectionEnabled + "]";
  }
}
