package com.mingus.reliability.logging;

import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.pattern.ExtendedThrowableProxyConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.LayoutBase;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Locale;

/**
 * The console's layout, chosen by {@code LOG_FORMAT}: {@code text} (the default; the logback.xml pattern, with
 * the date) or {@code json}, one object per line for a log shipper: {@code ts} (ISO-8601 UTC), {@code level},
 * {@code logger}, {@code thread}, {@code message} and, with an exception, {@code error} (its stack trace).
 * Both go through {@link Redactor}: the text pattern's converters, and here the message and stack trace
 * before they are escaped. Any other value falls back to text and says so on the first line.
 */
public final class LogLayout extends LayoutBase<ILoggingEvent> {
  private String format = "text";
  private String pattern = "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level %logger{0} %redactedMsg%n%redactedEx";
  private final PatternLayout text = new PatternLayout();
  private final ExtendedThrowableProxyConverter throwable = new ExtendedThrowableProxyConverter();
  private boolean json;
  private volatile String pendingWarning;

  public void setFormat(String format) {
    this.format = format;
  }

  public void setPattern(String pattern) {
    this.pattern = pattern;
  }

  @Override
  public void start() {
    String chosen = format == null ? "text" : format.trim().toLowerCase(Locale.ROOT);
    json = "json".equals(chosen);
    if (!json && !"text".equals(chosen) && !chosen.isEmpty()) {
      pendingWarning = "LOG_FORMAT=" + Redactor.redact(format) + " is neither text nor json: text is used";
    }
    text.setContext(getContext());
    text.setPattern(pattern);
    text.start();
    throwable.setContext(getContext());
    throwable.start();
    super.start();
  }

  @Override
  public void stop() {
    text.stop();
    throwable.stop();
    super.stop();
  }

  @Override
  public String doLayout(ILoggingEvent event) {
    String warning = pendingWarning;
    pendingWarning = null;
    String line = json ? json(event) : text.doLayout(event);
    return warning == null ? line : warning + CoreConstants.LINE_SEPARATOR + line;
  }

  private String json(ILoggingEvent event) {
    JsonObject line = new JsonObject()
        .put("ts", Instant.ofEpochMilli(event.getTimeStamp()).toString())
        .put("level", event.getLevel().toString())
        .put("logger", event.getLoggerName())
        .put("thread", event.getThreadName())
        .put("message", Redactor.redact(event.getFormattedMessage()));
    if (event.getThrowableProxy() != null) {
      line.put("error", Redactor.redact(throwable.convert(event)));
    }
    return line.encode() + CoreConstants.LINE_SEPARATOR;
  }
}
