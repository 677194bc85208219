package com.mingus.reliability.logging;

import ch.qos.logback.classic.pattern.ExtendedThrowableProxyConverter;
import ch.qos.logback.classic.spi.IThrowableProxy;

/** Stack traces with {@link Redactor} applied, since exception messages can quote what they failed on. */
public final class RedactingThrowableConverter extends ExtendedThrowableProxyConverter {
  @Override
  protected String throwableProxyToString(IThrowableProxy proxy) {
    return Redactor.redact(super.throwableProxyToString(proxy));
  }
}
