package com.mingus.reliability.config;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * How this node joins a cluster: Hazelcast's name, interface, port and TCP-IP members, and the host and
 * port of the clustered event bus. Validated at start-up like every other setting, naming the variable.
 *
 * @param members the TCP-IP members: {@code host} (Hazelcast then tries {@code port} .. {@code port +
 *     portCount - 1} on it) or {@code host:port}
 * @param host the interface Hazelcast binds (that one only, never the wildcard address) and announces;
 *     {@code 127.0.0.1} unless configured
 * @param eventBusHost the interface of the event bus; null means the same as {@code host}
 * @param eventBusPort 0 means any free port
 * @param memberTimeoutMs how long a silent member stays in the cluster; a SIGKILLed node's locks and
 *     subscriptions go when it is removed
 * @param tlsCa the cluster CA certificate(s) every member's certificate must chain to: a PEM file's path or
 *     the PEM itself; null (with {@code tlsCert} and {@code tlsKey} null too) for the dev default
 * @param tlsCert this node's certificate chain, leaf first (path or PEM)
 * @param tlsKey this node's PKCS#8 private key (path or PEM); a secret
 * @param tlsDir where the dev default keeps its generated cluster CA; null means {@code DATA_DIR/cluster-tls}
 */
public record ClusterSettings(
    boolean enabled,
    String name,
    List<Member> members,
    String host,
    int port,
    int portCount,
    String eventBusHost,
    int eventBusPort,
    int memberTimeoutMs,
    String tlsCa,
    String tlsCert,
    String tlsKey,
    String tlsDir) {

  /** Where Hazelcast and the event bus listen unless told: this machine only. */
  public static final String DEFAULT_HOST = "127.0.0.1";

  /** One TCP-IP member: a host, and a port or 0 to scan the port range. */
  public record Member(String host, int port) {
    /** The form Hazelcast's TCP-IP join takes. */
    public String address() {
      return port == 0 ? host : (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
  }

  // an IPv4 range (10.0.0.1-9, 10.0.0.*) or a port range (:5701-5703): Hazelcast's own syntax, which we refuse
  private static final Pattern IP_RANGE = Pattern.compile("^[0-9.]*[-*][0-9.*-]*$");
  private static final Pattern HOST = Pattern.compile("^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$");

  static ClusterSettings from(JsonObject section) {
    boolean enabled = bool(section.getValue("enabled", false), "CLUSTER");
    String name = text(section.getValue("name", "mingus-reliability"), "CLUSTER_NAME");
    if (name.isBlank()) {
      throw new ConfigException("CLUSTER_NAME", "must not be empty");
    }
    int port = number(section.getValue("port", 5701), "CLUSTER_PORT", 1, 65535);
    int portCount = number(section.getValue("port_count", 20), "CLUSTER_PORT_COUNT", 1, 1000);
    if (port + portCount - 1 > 65535) {
      throw new ConfigException("CLUSTER_PORT_COUNT", "CLUSTER_PORT + CLUSTER_PORT_COUNT - 1 exceeds 65535");
    }
    String host = optionalHost(section.getValue("host"), "CLUSTER_HOST");
    if (host == null) {
      host = DEFAULT_HOST;
    }
    String eventBusHost = optionalHost(section.getValue("event_bus_host"), "EVENT_BUS_HOST");
    int eventBusPort = number(section.getValue("event_bus_port", 0), "EVENT_BUS_PORT", 0, 65535);
    int timeout = number(section.getValue("member_timeout_ms", 5000), "CLUSTER_MEMBER_TIMEOUT_MS", 1000, 600_000);
    List<Member> members = members(text(section.getValue("members", "127.0.0.1"), "CLUSTER_MEMBERS"));
    if (enabled && members.isEmpty()) {
      throw new ConfigException("CLUSTER_MEMBERS", "must list at least one member (host or host:port, comma-separated)");
    }
    JsonObject tls = section.getValue("tls") instanceof JsonObject t ? t : new JsonObject();
    String tlsCa = optionalText(tls.getValue("ca"), "CLUSTER_TLS_CA");
    String tlsCert = optionalText(tls.getValue("cert"), "CLUSTER_TLS_CERT");
    String tlsKey = optionalText(tls.getValue("key"), "CLUSTER_TLS_KEY");
    String tlsDir = optionalText(tls.getValue("dir"), "CLUSTER_TLS_DIR");
    int given = (tlsCa != null ? 1 : 0) + (tlsCert != null ? 1 : 0) + (tlsKey != null ? 1 : 0);
    if (given > 0 && given < 3) {
      String missing = tlsCa == null ? "CLUSTER_TLS_CA" : tlsCert == null ? "CLUSTER_TLS_CERT" : "CLUSTER_TLS_KEY";
      throw new ConfigException(missing, "is required: set CLUSTER_TLS_CA, CLUSTER_TLS_CERT and CLUSTER_TLS_KEY "
          + "together, or none of them for the dev default (a cluster CA generated into CLUSTER_TLS_DIR)");
    }
    return new ClusterSettings(enabled, name.trim(), members, host, port, portCount, eventBusHost, eventBusPort, timeout,
        tlsCa, tlsCert, tlsKey, tlsDir);
  }

  /** The event bus's interface: its own setting, or Hazelcast's. */
  public String effectiveEventBusHost() {
    return eventBusHost != null ? eventBusHost : host;
  }

  /** The node's key, certificate and CA never appear in a log line or an exception. */
  @Override
  public String toString() {
    return "ClusterSettings[name=" + name + ", members=" + members + ", host=" + host + ", port=" + port
        + ", eventBus=" + effectiveEventBusHost() + ":" + eventBusPort + ", tls="
        + (tlsCert != null ? "configured" : "dev default") + "]";
  }

  private static String optionalText(Object value, String setting) {
    if (value == null) {
      return null;
    }
    String text = text(value, setting);
    return text.isBlank() ? null : text;
  }

  /** Parses {@code host[:port],...}; a range or wildcard is refused, since members are listed one by one. */
  static List<Member> members(String text) {
    List<Member> members = new ArrayList<>();
    for (String raw : text.split(",")) {
      String entry = raw.trim();
      if (entry.isEmpty()) {
        continue;
      }
      String host = entry;
      int port = 0;
      if (entry.startsWith("[")) {
        int close = entry.indexOf(']');
        if (close < 0) {
          throw new ConfigException("CLUSTER_MEMBERS", "'" + entry + "' opens an IPv6 bracket it does not close");
        }
        host = entry.substring(1, close);
        String rest = entry.substring(close + 1);
        if (!rest.isEmpty()) {
          if (!rest.startsWith(":")) {
            throw new ConfigException("CLUSTER_MEMBERS", "'" + entry + "' is not host, host:port or [ipv6]:port");
          }
          port = memberPort(rest.substring(1), entry);
        }
      } else if (entry.indexOf(':') >= 0) {
        if (entry.indexOf(':') != entry.lastIndexOf(':')) {
          throw new ConfigException("CLUSTER_MEMBERS", "'" + entry + "': write an IPv6 member as [address] or [address]:port");
        }
        host = entry.substring(0, entry.indexOf(':'));
        port = memberPort(entry.substring(entry.indexOf(':') + 1), entry);
      }
      if (IP_RANGE.matcher(host).matches() && (host.contains("-") || host.contains("*"))) {
        throw new ConfigException("CLUSTER_MEMBERS", "'" + entry + "' is a range; list each member "
            + "(host or host:port, comma-separated); a host without a port scans CLUSTER_PORT's range");
      }
      if (!entry.startsWith("[") && !HOST.matcher(host).matches()) {
        throw new ConfigException("CLUSTER_MEMBERS", "'" + entry + "' is not a host name or address");
      }
      members.add(new Member(host, port));
    }
    return List.copyOf(members);
  }

  private static int memberPort(String text, String entry) {
    if (text.contains("-")) {
      throw new ConfigException("CLUSTER_MEMBERS", "'" + entry + "' gives a port range; give one port, or none "
          + "to scan CLUSTER_PORT .. CLUSTER_PORT + CLUSTER_PORT_COUNT - 1");
    }
    try {
      int port = Integer.parseInt(text);
      if (port < 1 || port > 65535) {
        throw new NumberFormatException();
      }
      return port;
    } catch (NumberFormatException e) {
      throw new ConfigException("CLUSTER_MEMBERS", "'" + entry + "' has no valid port (1..65535)");
    }
  }

  private static String optionalHost(Object value, String setting) {
    if (value == null) {
      return null;
    }
    String host = text(value, setting).trim();
    if (host.isEmpty()) {
      return null;
    }
    if (!HOST.matcher(host).matches() && !host.contains(":")) {
      throw new ConfigException(setting, "'" + host + "' is not a host name or address");
    }
    return host;
  }

  private static int number(Object value, String setting, int min, int max) {
    if (!(value instanceof Number n) || n.doubleValue() != Math.floor(n.doubleValue())) {
      throw new ConfigException(setting, "must be a whole number, got '" + value + "'");
    }
    if (n.longValue() < min || n.longValue() > max) {
      throw new ConfigException(setting, "must be between " + min + " and " + max + ", got " + n.longValue());
    }
    return n.intValue();
  }

  private static String text(Object value, String setting) {
    if (!(value instanceof String s)) {
      throw new ConfigException(setting, "must be text, got '" + value + "'");
    }
    return s;
  }

  private static boolean bool(Object value, String setting) {
    if (!(value instanceof Boolean b)) {
      throw new ConfigException(setting, "must be true or false, got '" + value + "'");
    }
    return b;
  }
}
