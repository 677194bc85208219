package com.mingus.reliability.plaid;

import io.vertx.core.json.JsonObject;
import java.net.URI;

/**
 * The client's settings: the resolved {@code plaid} section every verticle receives.
 *
 * @param baseUrl          Plaid's host, e.g. {@code https://sandbox.plaid.com} or the local sandbox
 * @param version          sent as {@code Plaid-Version}
 * @param connectTimeoutMs time allowed to obtain a connection (including DNS and TLS)
 * @param idleTimeoutMs    time allowed without a byte from the server once connected
 * @param totalTimeoutMs   time allowed for the whole call, from send to the last byte
 * @param maxResponseBytes answers larger than this fail with TOO_LARGE
 * @param maxConnections   HTTP/1.1 connections to Plaid per client
 */
public record PlaidConfig(
    String baseUrl,
    String clientId,
    String secret,
    String version,
    long connectTimeoutMs,
    long idleTimeoutMs,
    long totalTimeoutMs,
    long maxResponseBytes,
    int maxConnections) {

  public static final String DEFAULT_BASE_URL = "https://sandbox.plaid.com";
  public static final String DEFAULT_VERSION = "2020-09-14";
  public static final long DEFAULT_MAX_RESPONSE_BYTES = 32L * 1024 * 1024;
  public static final int DEFAULT_MAX_CONNECTIONS = 16;

  public PlaidConfig {
    URI uri = URI.create(baseUrl);
    if (uri.getHost() == null || !("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))) {
      throw new IllegalArgumentException("plaid.base_url must be an http(s) URL with a host: " + baseUrl);
    }
    if (connectTimeoutMs <= 0 || idleTimeoutMs <= 0 || totalTimeoutMs <= 0 || maxResponseBytes <= 0
        || maxConnections <= 0) {
      throw new IllegalArgumentException("plaid timeouts, max_response_bytes and max_connections must be positive");
    }
  }

  /** Reads the {@code plaid} section; every key has a default (the same as conf/config.json). */
  public static PlaidConfig fromJson(JsonObject plaid) {
    JsonObject section = plaid == null ? new JsonObject() : plaid;
    JsonObject timeouts = section.getJsonObject("timeouts", new JsonObject());
    String baseUrl = section.getString("base_url");
    String version = section.getString("version");
    return new PlaidConfig(
        baseUrl == null || baseUrl.isBlank() ? DEFAULT_BASE_URL : stripSlash(baseUrl.trim()),
        section.getString("client_id"),
        section.getString("secret"),
        version == null || version.isBlank() ? DEFAULT_VERSION : version,
        timeouts.getLong("connect_ms", 3_000L),
        timeouts.getLong("idle_ms", 10_000L),
        timeouts.getLong("total_ms", 15_000L),
        section.getLong("max_response_bytes", DEFAULT_MAX_RESPONSE_BYTES),
        section.getInteger("max_connections", DEFAULT_MAX_CONNECTIONS));
  }

  private static String stripSlash(String url) {
    return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }

  @Override
  public String toString() {
    return "PlaidConfig[baseUrl=" + baseUrl + ", clientId=" + clientId + ", secret=" + (secret == null ? "null" : "***")
        + ", version=" + version + ", connect=" + connectTimeoutMs + "ms, idle=" + idleTimeoutMs + "ms, total="
        + totalTimeoutMs + "ms, maxResponseBytes=" + maxResponseBytes + ", maxConnections=" + maxConnections + "]";
  }
}
