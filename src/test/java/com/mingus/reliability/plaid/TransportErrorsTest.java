package com.mingus.reliability.plaid;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.bus.TransportFailure;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.NotSslRecordException;
import io.vertx.core.VertxException;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.impl.NoStackTraceTimeoutException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.time.Instant;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

/** The exceptions Netty and Vert.x throw, each mapped to the transport kind a classifier can act on. */
class TransportErrorsTest {

  @Test
  void eachKnownExceptionMapsToItsKind() {
    assertThat(TransportErrors.classify(new NoStackTraceTimeoutException("The timeout period of 400ms has been exceeded")))
        .isEqualTo(TransportFailure.TIMEOUT);
    assertThat(TransportErrors.classify(new TransportErrors.DeadlineExceededException(15_000)))
        .isEqualTo(TransportFailure.TIMEOUT);
    assertThat(new TransportErrors.DeadlineExceededException(15_000).getStackTrace()).isEmpty();
    assertThat(TransportErrors.classify(new ConnectTimeoutException("connection timed out after 3000 ms: /10.0.0.1:443")))
        .isEqualTo(TransportFailure.TIMEOUT);
    assertThat(TransportErrors.classify(new ConnectException("Connection refused: /127.0.0.1:1")))
        .isEqualTo(TransportFailure.CONNECTION_REFUSED);
    assertThat(TransportErrors.classify(new UnknownHostException("Failed to resolve 'nonexistent.invalid'")))
        .isEqualTo(TransportFailure.DNS);
    assertThat(TransportErrors.classify(new SSLHandshakeException("PKIX path building failed")))
        .isEqualTo(TransportFailure.TLS);
    assertThat(TransportErrors.classify(new HttpClosedException("Connection was closed")))
        .isEqualTo(TransportFailure.CONNECTION_RESET);
    assertThat(TransportErrors.classify(VertxException.noStackTrace("Connection was closed")))
        .isEqualTo(TransportFailure.CONNECTION_RESET);
    assertThat(TransportErrors.classify(new IOException("Connection reset by peer")))
        .isEqualTo(TransportFailure.CONNECTION_RESET);
    assertThat(TransportErrors.classify(new IllegalStateException("something else entirely")))
        .isEqualTo(TransportFailure.OTHER);
  }

  @Test
  void aWrappedCauseIsFound() {
    assertThat(TransportErrors.classify(new DecoderException(new NotSslRecordException("not an SSL/TLS record"))))
        .isEqualTo(TransportFailure.TLS);
    assertThat(TransportErrors.classify(new VertxException(new ConnectException("Connection refused"))))
        .isEqualTo(TransportFailure.CONNECTION_REFUSED);
  }

  @Test
  void anyFailureOfACallHasABusShape() {
    assertThat(PlaidException.failureOf(new IllegalArgumentException("access token required"), "/item/get"))
        .isEqualTo(com.mingus.reliability.bus.PlaidFailure.transport("/item/get", TransportFailure.OTHER, null));
    assertThat(PlaidException.failureOf(new ConnectException("Connection refused"), "/item/get").transport())
        .isEqualTo(TransportFailure.CONNECTION_REFUSED);
  }

  @Test
  void aCauseCycleDoesNotLoop() {
    IllegalStateException a = new IllegalStateException("a");
    IllegalArgumentException b = new IllegalArgumentException("b", a);
    a.initCause(b);
    assertThat(TransportErrors.classify(a)).isEqualTo(TransportFailure.OTHER);
  }

  @Test
  void retryAfterReadsSecondsAndDatesAndIgnoresNonsense() {
    Instant now = Instant.parse("2026-11-29T08:00:00Z");
    assertThat(TransportErrors.retryAfterSeconds("30", now)).isEqualTo(30L);
    assertThat(TransportErrors.retryAfterSeconds(" 5 ", now)).isEqualTo(5L);
    assertThat(TransportErrors.retryAfterSeconds("Sun, 29 Nov 2026 08:01:30 GMT", now)).isEqualTo(90L);
    assertThat(TransportErrors.retryAfterSeconds("Sun, 29 Nov 2026 07:00:00 GMT", now)).isZero();
    assertThat(TransportErrors.retryAfterSeconds("soon", now)).isNull();
    assertThat(TransportErrors.retryAfterSeconds("-3", now)).isNull();
    assertThat(TransportErrors.retryAfterSeconds(null, now)).isNull();
    assertThat(TransportErrors.retryAfterSeconds("99999999999999999999999", now)).isPositive();
  }
}
