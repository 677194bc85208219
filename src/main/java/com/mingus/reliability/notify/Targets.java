package com.mingus.reliability.notify;

import java.net.URI;

/**
 * Where a delivery went, as operators see it: enough to tell one channel's targets apart and see which
 * provider, never the user's whole address. Push endpoints and webhook URLs are capability URLs (whoever
 * has the path can post to the user), so only their origin is shown.
 */
final class Targets {
  private Targets() {}

  static String redact(String channel, String target) {
    if (target == null || target.isEmpty()) {
      return target;
    }
    return switch (channel) {
      case "email" -> {
        int at = target.lastIndexOf('@');
        yield at <= 0 ? "***" : target.charAt(0) + "***" + target.substring(at);
      }
      case "sms" -> target.length() <= 4 ? "***" : "***" + target.substring(target.length() - 4);
      case "push", "webhook" -> origin(target);
      default -> "***";
    };
  }

  private static String origin(String url) {
    try {
      URI uri = new URI(url);
      if (uri.getScheme() == null || uri.getHost() == null) {
        return "***";
      }
      return uri.getScheme() + "://" + uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort()) + "/***";
    } catch (Exception e) {
      return "***";
    }
  }
}
