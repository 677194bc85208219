package com.mingus.reliability.notify;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Decides, at delivery time, whether a user-supplied URL (a webhook or a Web Push endpoint) may be called,
 * and with which address. The host is resolved here, every address it resolves to must be public, and the
 * caller connects to the returned address (never resolving again), so DNS rebinding cannot swap in a
 * private one between the check and the connection.
 *
 * <p>Refused: schemes other than http/https; user info; percent-encoded or zone-scoped hosts; numeric
 * hosts in any spelling a resolver might accept (decimal {@code 2130706433}, octal {@code 0177.0.0.1},
 * hex {@code 0x7f.1}, short {@code 127.1}) that land in a private range; names of cloud metadata services
 * and {@code *.internal}, {@code *.local}, {@code localhost}; and addresses that are unspecified, loopback,
 * private (RFC 1918, ULA), link-local (including 169.254.169.254), CGNAT, multicast, reserved, documentation,
 * benchmarking, or IPv6 forms that embed IPv4 (mapped, compatible, NAT64, 6to4, Teredo).
 * {@code allowLoopback} (development and tests only) lets 127.0.0.0/8 and ::1 through; the
 * {@code allowedTargets} hook lets exact {@code ip:port} pairs through, for tests that need a local server.
 */
final class SsrfGuard {
  private static final Set<String> BLOCKED_NAMES = Set.of("localhost", "metadata.google.internal", "metadata.goog", "metadata",
      "instance-data", "instance-data.ec2.internal", "metadata.azure.internal", "kubernetes.default",
      "kubernetes.default.svc");
  private static final List<String> BLOCKED_SUFFIXES = List.of(".internal", ".local", ".localhost", ".localdomain",
      ".home.arpa", ".svc", ".cluster.local");
  private static final Pattern NUMERIC_LOOKING = Pattern.compile("^[0-9][0-9a-fA-FxX]*(\\.[0-9][0-9a-fA-FxX]*){0,3}\\.?$");

  private final boolean allowLoopback;
  private final Set<String> allowedTargets;
  private final Resolver resolver;

  /** Name to addresses; the system resolver in production, a fixed table in tests. */
  interface Resolver {
    List<InetAddress> resolve(String host) throws UnknownHostException;
  }

  /** Where to connect: the checked address, and the name to send as Host and SNI. */
  record Target(String scheme, String host, int port, String pathAndQuery, InetAddress address) {
    boolean tls() {
      return scheme.equals("https");
    }
  }

  /** A refusal, with the reason recorded on the delivery. */
  static final class Refused extends RuntimeException {
    Refused(String reason) {
      super(reason, null, false, false);
    }
  }

  SsrfGuard(boolean allowLoopback, Set<String> allowedTargets) {
    this(allowLoopback, allowedTargets, host -> Arrays.asList(InetAddress.getAllByName(host)));
  }

  SsrfGuard(boolean allowLoopback, Set<String> allowedTargets, Resolver resolver) {
    this.allowLoopback = allowLoopback;
    this.allowedTargets = Set.copyOf(allowedTargets);
    this.resolver = resolver;
  }

  /** Checks the URL's form and, for a name, resolves it on a worker thread; fails with {@link Refused}. */
  Future<Target> check(Vertx vertx, String url) {
    Parsed parsed;
    try {
      parsed = parse(url);
    } catch (Refused refused) {
      return Future.failedFuture(refused);
    }
    InetAddress literal = parsed.literal();
    if (literal != null) {
      return verdict(parsed, List.of(literal));
    }
    return vertx.<List<InetAddress>>executeBlocking(() -> resolver.resolve(parsed.host()), false)
        .recover(failure -> Future.failedFuture(failure instanceof UnknownHostException
            ? new DnsFailure("cannot resolve " + parsed.host()) : failure))
        .compose(addresses -> verdict(parsed, addresses));
  }

  /** A name that did not resolve: worth a retry, unlike a refusal. */
  static final class DnsFailure extends RuntimeException {
    DnsFailure(String message) {
      super(message, null, false, false);
    }
  }

  private Future<Target> verdict(Parsed parsed, List<InetAddress> addresses) {
    if (addresses.isEmpty()) {
      return Future.failedFuture(new DnsFailure("no address for " + parsed.host()));
    }
    for (InetAddress address : addresses) {
      String reason = forbidden(address, parsed.port());
      if (reason != null) {
        return Future.failedFuture(new Refused(reason + " (" + address.getHostAddress() + ")"));
      }
    }
    return Future.succeededFuture(new Target(parsed.scheme(), parsed.host(), parsed.port(), parsed.pathAndQuery(),
        addresses.get(0)));
  }

  private record Parsed(String scheme, String host, int port, String pathAndQuery, InetAddress literal) {}

  /** The syntactic checks alone (no DNS): also used to refuse an unusable URL when preferences are saved. */
  static void checkSyntax(String url) {
    parse(url);
  }

  private static Parsed parse(String url) {
    if (url == null || url.isBlank() || url.length() > 2048) {
      throw new Refused("not a URL");
    }
    URI uri;
    try {
      uri = new URI(url.trim());
    } catch (Exception e) {
      throw new Refused("not a URL");
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw new Refused("scheme '" + scheme + "' is not allowed; use https");
    }
    String authority = uri.getRawAuthority();
    if (authority == null || authority.isEmpty()) {
      throw new Refused("no host");
    }
    if (authority.contains("@")) {
      throw new Refused("user info in the URL is not allowed");
    }
    String host;
    String portText = null;
    if (authority.startsWith("[")) {
      int close = authority.indexOf(']');
      if (close < 0) {
        throw new Refused("malformed IPv6 host");
      }
      host = authority.substring(1, close);
      String rest = authority.substring(close + 1);
      if (!rest.isEmpty()) {
        if (!rest.startsWith(":")) {
          throw new Refused("malformed authority");
        }
        portText = rest.substring(1);
      }
    } else {
      int colon = authority.lastIndexOf(':');
      host = colon < 0 ? authority : authority.substring(0, colon);
      portText = colon < 0 ? null : authority.substring(colon + 1);
      if (host.contains(":")) {
        throw new Refused("malformed authority");
      }
    }
    if (!host.chars().allMatch(c -> c < 0x80)) {
      // an IDN: checked (and later resolved) in its ASCII form, so that fullwidth digits, ideographic dots
      // and circled letters cannot spell a private address or an internal name past the checks below
      try {
        host = java.net.IDN.toASCII(host, java.net.IDN.USE_STD3_ASCII_RULES);
      } catch (IllegalArgumentException e) {
        throw new Refused("malformed international host name");
      }
    }
    host = host.toLowerCase(Locale.ROOT);
    if (host.isEmpty() || host.contains("%") || host.contains("\\") || host.contains(" ")) {
      throw new Refused("malformed host");
    }
    int port;
    if (portText == null || portText.isEmpty()) {
      port = scheme.equals("https") ? 443 : 80;
    } else {
      try {
        port = Integer.parseInt(portText);
      } catch (NumberFormatException e) {
        throw new Refused("malformed port");
      }
      if (port < 1 || port > 65535) {
        throw new Refused("port out of range");
      }
    }
    String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
    String pathAndQuery = uri.getRawQuery() == null ? path : path + "?" + uri.getRawQuery();
    InetAddress literal = null;
    if (host.contains(":")) {
      try {
        literal = InetAddress.getByName(host); // an IPv6 literal: parsed, never looked up
      } catch (UnknownHostException e) {
        throw new Refused("malformed IPv6 host");
      }
    } else if (NUMERIC_LOOKING.matcher(host).matches()) {
      literal = inetAton(host.endsWith(".") ? host.substring(0, host.length() - 1) : host);
    } else {
      String name = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
      if (BLOCKED_NAMES.contains(name) || BLOCKED_SUFFIXES.stream().anyMatch(name::endsWith)) {
        throw new Refused("host name '" + name + "' is an internal service name");
      }
      host = name;
    }
    return new Parsed(scheme, host, port, pathAndQuery, literal);
  }

  /** The address a C resolver's inet_aton would read from a numeric host, in all its spellings. */
  static InetAddress inetAton(String host) {
    String[] parts = host.split("\\.", -1);
    long[] values = new long[parts.length];
    for (int i = 0; i < parts.length; i++) {
      values[i] = number(parts[i]);
    }
    long address;
    switch (parts.length) {
      case 1 -> address = limit(values[0], 0xFFFFFFFFL);
      case 2 -> address = limit(values[0], 0xFF) << 24 | limit(values[1], 0xFFFFFF);
      case 3 -> address = limit(values[0], 0xFF) << 24 | limit(values[1], 0xFF) << 16 | limit(values[2], 0xFFFF);
      default -> address = limit(values[0], 0xFF) << 24 | limit(values[1], 0xFF) << 16 | limit(values[2], 0xFF) << 8
          | limit(values[3], 0xFF);
    }
    byte[] bytes = {(byte) (address >>> 24), (byte) (address >>> 16), (byte) (address >>> 8), (byte) address};
    try {
      return InetAddress.getByAddress(bytes);
    } catch (UnknownHostException e) {
      throw new Refused("malformed numeric host");
    }
  }

  private static long number(String part) {
    try {
      if (part.isEmpty()) {
        throw new NumberFormatException();
      }
      if (part.startsWith("0x") || part.startsWith("0X")) {
        return part.length() == 2 ? 0 : Long.parseLong(part.substring(2), 16);
      }
      if (part.length() > 1 && part.startsWith("0")) {
        return Long.parseLong(part.substring(1), 8);
      }
      return Long.parseLong(part, 10);
    } catch (NumberFormatException e) {
      throw new Refused("ambiguous numeric host");
    }
  }

  private static long limit(long value, long max) {
    if (value < 0 || value > max) {
      throw new Refused("numeric host out of range");
    }
    return value;
  }

  /** Why this address may not be called, or null when it may. */
  String forbidden(InetAddress address, int port) {
    if (allowedTargets.contains(address.getHostAddress() + ":" + port)) {
      return null;
    }
    if (address.isLoopbackAddress()) {
      return allowLoopback ? null : "loopback address";
    }
    return forbiddenRange(address);
  }

  static String forbiddenRange(InetAddress address) {
    byte[] b = address.getAddress();
    if (address instanceof Inet4Address) {
      return forbiddenV4(b);
    }
    if (address instanceof Inet6Address) {
      boolean first10Zero = true;
      for (int i = 0; i < 10; i++) {
        first10Zero &= b[i] == 0;
      }
      if (first10Zero && (b[10] & 0xFF) == 0xFF && (b[11] & 0xFF) == 0xFF) {
        String inner = forbiddenV4(Arrays.copyOfRange(b, 12, 16));
        return inner == null ? "IPv4-mapped IPv6 address" : inner + " (IPv4-mapped)";
      }
      if (first10Zero && b[10] == 0 && b[11] == 0) {
        return address.isAnyLocalAddress() ? "unspecified address" : "IPv4-compatible or reserved IPv6 address";
      }
      int first = b[0] & 0xFF;
      int second = b[1] & 0xFF;
      if ((first & 0xFE) == 0xFC) {
        return "unique local IPv6 address";
      }
      if (first == 0xFE && (second & 0xC0) == 0x80) {
        return "link-local IPv6 address";
      }
      if (first == 0xFE && (second & 0xC0) == 0xC0) {
        return "site-local IPv6 address";
      }
      if (first == 0xFF) {
        return "multicast address";
      }
      if (first == 0x00 && second == 0x64 && (b[2] & 0xFF) == 0xFF && (b[3] & 0xFF) == 0x9B) {
        return "NAT64 address";
      }
      if (first == 0x01 && second == 0x00) {
        return "discard-only IPv6 address";
      }
      if (first == 0x20 && second == 0x02) {
        return "6to4 address";
      }
      if (first == 0x20 && second == 0x01 && b[2] == 0 && b[3] == 0) {
        return "Teredo address";
      }
      if (first == 0x20 && second == 0x01 && (b[2] & 0xFF) == 0x0D && (b[3] & 0xFF) == 0xB8) {
        return "documentation address";
      }
      return null;
    }
    return "unknown address family";
  }

  private static String forbiddenV4(byte[] b) {
    int a0 = b[0] & 0xFF;
    int a1 = b[1] & 0xFF;
    int a2 = b[2] & 0xFF;
    if (a0 == 0) {
      return "unspecified address (0.0.0.0/8)";
    }
    if (a0 == 127) {
      return "loopback address";
    }
    if (a0 == 10 || (a0 == 172 && (a1 & 0xF0) == 16) || (a0 == 192 && a1 == 168)) {
      return "private address";
    }
    if (a0 == 100 && (a1 & 0xC0) == 64) {
      return "carrier-grade NAT address";
    }
    if (a0 == 169 && a1 == 254) {
      return "link-local or cloud metadata address";
    }
    if (a0 == 192 && a1 == 0 && (a2 == 0 || a2 == 2)) {
      return "reserved or documentation address";
    }
    if ((a0 == 198 && (a1 & 0xFE) == 18) || (a0 == 198 && a1 == 51 && a2 == 100) || (a0 == 203 && a1 == 0 && a2 == 113)
        || (a0 == 192 && a1 == 88 && a2 == 99)) {
      return "reserved or documentation address";
    }
    if (a0 >= 224) {
      return a0 < 240 ? "multicast address" : "reserved address";
    }
    return null;
  }
}
