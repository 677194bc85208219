package com.mingus.reliability.notify;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * SMS through a Twilio-compatible API: {@code POST {base}/2010-04-01/Accounts/{sid}/Messages.json},
 * form-encoded To/From/Body, basic auth with the account SID and token. The provider's {@code sid} is the
 * provider message id. The base URL is the operator's, so it is called directly, not through the guard.
 */
final class SmsChannel {
  static final int MAX_BODY = 1600;
  private final HttpClient client;
  private final String url;
  private final String authorization;
  private final String from;
  private final long timeoutMs;

  SmsChannel(HttpClient client, String baseUrl, String accountSid, String authToken, String from, long timeoutMs) {
    this.client = client;
    this.url = baseUrl.replaceAll("/+$", "") + "/2010-04-01/Accounts/" + URLEncoder.encode(accountSid, StandardCharsets.UTF_8)
        + "/Messages.json";
    this.authorization = "Basic " + Base64.getEncoder()
        .encodeToString((accountSid + ":" + authToken).getBytes(StandardCharsets.UTF_8));
    this.from = from;
    this.timeoutMs = timeoutMs;
  }

  Future<SendOutcome> send(Delivery delivery) {
    if (delivery.target() == null) {
      return Future.succeededFuture(SendOutcome.skipped("no_phone_number"));
    }
    String text = delivery.body().length() > MAX_BODY ? delivery.body().substring(0, MAX_BODY - 1) + "…" : delivery.body();
    String form = "To=" + encode(delivery.target()) + "&From=" + encode(from) + "&Body=" + encode(text);
    MultiMap headers = MultiMap.caseInsensitiveMultiMap()
        .add("Content-Type", "application/x-www-form-urlencoded")
        .add("Authorization", authorization)
        .add("Idempotency-Key", delivery.idempotencyKey());
    return HttpCalls.post(client, url, headers, Buffer.buffer(form), timeoutMs)
        .map(answer -> SendOutcome.ofHttp(answer.status(), sid(answer.body()), providerMessage(answer.body()),
            answer.retryAfterMs(), false))
        .recover(failure -> Future.succeededFuture(SendOutcome.retry("SMS API: " + EmailChannel.oneLine(failure.getMessage()))));
  }

  private static String encode(String text) {
    return URLEncoder.encode(text, StandardCharsets.UTF_8);
  }

  private static String sid(String body) {
    try {
      return new JsonObject(body).getString("sid");
    } catch (RuntimeException e) {
      return null;
    }
  }

  private static String providerMessage(String body) {
    try {
      JsonObject json = new JsonObject(body);
      return json.getValue("code") + " " + json.getString("message", "");
    } catch (RuntimeException e) {
      return HttpCalls.snippet(body);
    }
  }
}
