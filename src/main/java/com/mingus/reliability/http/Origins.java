package com.mingus.reliability.http;

import io.vertx.core.json.JsonArray;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * Which browser origins may open the feed: the configured {@code http.allowed_origins}, plus the server's
 * own origin (the Origin that matches the Host the browser asked for), so the dashboard works on whatever
 * host and port it is served from. {@code "*"} in the list allows any origin.
 */
final class Origins {
  private final Set<String> allowed = new HashSet<>();
  private final boolean any;
  private final boolean sameOrigin;

  Origins(JsonArray configured, boolean sameOrigin) {
    boolean star = false;
    for (Object origin : configured) {
      String text = String.valueOf(origin).trim().toLowerCase(Locale.ROOT).replaceAll("/+$", "");
      if (text.equals("*")) {
        star = true;
      }
      allowed.add(text);
    }
    this.any = star;
    this.sameOrigin = sameOrigin;
  }

  boolean allowed(String origin, String host) {
    String normalized = origin.trim().toLowerCase(Locale.ROOT);
    if (any || allowed.contains(normalized)) {
      return true;
    }
    if (sameOrigin && host != null) {
      String h = host.trim().toLowerCase(Locale.ROOT);
      return normalized.equals("http://" + h) || normalized.equals("https://" + h);
    }
    return false;
  }
}
