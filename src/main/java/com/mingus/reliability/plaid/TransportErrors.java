package com.mingus.reliability.plaid;

import com.mingus.reliability.bus.TransportFailure;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.vertx.core.VertxException;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.StreamResetException;
import java.io.EOFException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.PortUnreachableException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.channels.ClosedChannelException;
import java.security.cert.CertificateException;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.IdentityHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;

/**
 * Maps what Netty and Vert.x throw to a {@link TransportFailure}. The cause chain is walked because the
 * telling exception is often wrapped (a DecoderException around an SSLException, a VertxException
 * around a ConnectException).
 */
final class TransportErrors {
  private TransportErrors() {}

  /** Thrown by the body reader when an answer exceeds the configured size. */
  static final class BodyTooLargeException extends IOException {
    BodyTooLargeException(long limit) {
      super("response body larger than " + limit + " bytes");
    }
  }

  /**
   * The whole exchange did not end within {@code plaid.timeouts.total_ms}. A {@link TimeoutException}, so
   * it is classified TIMEOUT like the client's connect and idle timeouts; without a stack trace, as it is
   * an expected outcome raised from a timer.
   */
  static final class DeadlineExceededException extends TimeoutException {
    DeadlineExceededException(long totalMs) {
      super("no complete answer within " + totalMs + " ms");
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
      return this;
    }
  }

  static TransportFailure classify(Throwable failure) {
    Map<Throwable, Boolean> seen = new IdentityHashMap<>();
    for (Throwable t = failure; t != null && seen.put(t, Boolean.TRUE) == null && seen.size() <= 16; t = t.getCause()) {
      TransportFailure kind = classifyOne(t);
      if (kind != null) {
        return kind;
      }
    }
    return TransportFailure.OTHER;
  }

  private static TransportFailure classifyOne(Throwable t) {
    if (t instanceof BodyTooLargeException) {
      return TransportFailure.TOO_LARGE;
    }
    // ConnectTimeoutException is a ConnectException: test it first.
    if (t instanceof TimeoutException || t instanceof ConnectTimeoutException || t instanceof SocketTimeoutException
        || t instanceof io.netty.handler.timeout.TimeoutException) {
      return TransportFailure.TIMEOUT;
    }
    if (t instanceof UnknownHostException || t.getClass().getName().startsWith("io.netty.resolver.")) {
      return TransportFailure.DNS;
    }
    if (t instanceof SSLException || t instanceof CertificateException) {
      return TransportFailure.TLS;
    }
    if (t instanceof ConnectException || t instanceof NoRouteToHostException || t instanceof PortUnreachableException) {
      return TransportFailure.CONNECTION_REFUSED;
    }
    if (t instanceof HttpClosedException || t instanceof StreamResetException || t instanceof ClosedChannelException
        || t instanceof PrematureChannelClosureException || t instanceof EOFException) {
      return TransportFailure.CONNECTION_RESET;
    }
    String message = t.getMessage() == null ? "" : t.getMessage().toLowerCase(Locale.ROOT);
    if (t instanceof VertxException && message.contains("connection was closed")) {
      return TransportFailure.CONNECTION_RESET;
    }
    if (t instanceof IOException
        && (message.contains("connection reset") || message.contains("broken pipe") || message.contains("closed"))) {
      return TransportFailure.CONNECTION_RESET;
    }
    return null;
  }

  /**
   * Seconds to wait from a Retry-After value: delta-seconds, or an HTTP-date counted from {@code now}
   * (never negative). Null when absent or unreadable.
   */
  static Long retryAfterSeconds(String value, Instant now) {
    if (value == null || value.isBlank()) {
      return null;
    }
    String trimmed = value.trim();
    if (trimmed.chars().allMatch(Character::isDigit)) {
      try {
        return Long.parseLong(trimmed);
      } catch (NumberFormatException tooLong) {
        return Long.MAX_VALUE / 1000;
      }
    }
    try {
      Instant at = ZonedDateTime.parse(trimmed, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
      return Math.max(0L, at.getEpochSecond() - now.getEpochSecond());
    } catch (DateTimeParseException unreadable) {
      return null;
    }
  }
}
