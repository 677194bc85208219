package com.mingus.reliability.notify;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;

/**
 * Outgoing HTTP calls of the channels. {@link #pinned} connects to the address the {@link SsrfGuard} checked
 * while sending the original name as Host and SNI, never follows a redirect and reads at most
 * {@link #MAX_BODY} bytes of an answer.
 */
final class HttpCalls {
  static final int MAX_BODY = 16 * 1024;

  private HttpCalls() {}

  record Answer(int status, MultiMap headers, String body) {
    long retryAfterMs() {
      String value = headers.get("Retry-After");
      if (value == null) {
        return 0;
      }
      try {
        return Math.max(0, Long.parseLong(value.trim())) * 1000;
      } catch (NumberFormatException notSeconds) {
        try {
          // the other form RFC 9110 allows: an HTTP date
          long at = java.time.ZonedDateTime.parse(value.trim(), java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME)
              .toInstant().toEpochMilli();
          return Math.max(0, at - System.currentTimeMillis());
        } catch (java.time.format.DateTimeParseException notADate) {
          return 0;
        }
      }
    }
  }

  static Future<Answer> pinned(HttpClient client, SsrfGuard.Target target, MultiMap headers, Buffer body, long timeoutMs) {
    boolean defaultPort = target.port() == (target.tls() ? 443 : 80);
    RequestOptions options = new RequestOptions()
        .setMethod(HttpMethod.POST)
        .setServer(SocketAddress.inetSocketAddress(target.port(), target.address().getHostAddress()))
        .setHost(target.host())
        .setPort(target.port())
        .setSsl(target.tls())
        .setURI(target.pathAndQuery())
        .setFollowRedirects(false)
        .setConnectTimeout(timeoutMs)
        .setTimeout(timeoutMs)
        .setHeaders(headers);
    String hostHeader = target.host().contains(":") ? "[" + target.host() + "]" : target.host();
    options.putHeader("Host", defaultPort ? hostHeader : hostHeader + ":" + target.port());
    return send(client, options, body);
  }

  static Future<Answer> post(HttpClient client, String absoluteUrl, MultiMap headers, Buffer body, long timeoutMs) {
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(absoluteUrl)
        .setFollowRedirects(false).setConnectTimeout(timeoutMs).setTimeout(timeoutMs).setHeaders(headers);
    return send(client, options, body);
  }

  private static Future<Answer> send(HttpClient client, RequestOptions options, Buffer body) {
    // read is a listener of send's own future, so it runs in the task that delivers the response head, before
    // the end can arrive; one stage later (on another context, e.g. a caller off the event loop) a body-less
    // answer such as a 302 could have ended already and the handler would throw
    return client.request(options).compose(request -> request.send(body).compose(HttpCalls::read));
  }

  private static Future<Answer> read(HttpClientResponse response) {
    Buffer collected = Buffer.buffer();
    response.handler(chunk -> {
      if (collected.length() < MAX_BODY) {
        collected.appendBuffer(chunk, 0, Math.min(chunk.length(), MAX_BODY - collected.length()));
      }
    });
    return response.end().map(ignored -> new Answer(response.statusCode(), response.headers(), collected.toString()));
  }

  /** A short, single-line piece of an answer body for the delivery's error text. */
  static String snippet(String body) {
    if (body == null) {
      return null;
    }
    String line = body.replaceAll("\\s+", " ").strip();
    return line.length() > 200 ? line.substring(0, 200) + "…" : line;
  }
}
