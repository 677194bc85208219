package com.mingus.reliability.notify;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mail.LoginOption;
import io.vertx.ext.mail.MailClient;
import io.vertx.ext.mail.MailConfig;
import io.vertx.ext.mail.MailMessage;
import io.vertx.ext.mail.SMTPException;
import io.vertx.ext.mail.StartTLSOptions;

/**
 * EMAIL over SMTP with vertx-mail-client. The Message-ID is derived from the delivery's idempotency key,
 * so a mail resent after a crash carries the same id and a receiving system can drop the copy.
 */
final class EmailChannel {
  private final MailClient client;
  private final String from;
  private final String domain;

  EmailChannel(Vertx vertx, String host, int port, String username, String password, String from, JsonObject smtp) {
    MailConfig config = new MailConfig().setHostname(host).setPort(port)
        .setConnectTimeout(smtp.getInteger("connect_timeout_ms", 5_000))
        .setMaxPoolSize(smtp.getInteger("max_pool_size", 8))
        .setKeepAlive(true)
        .setSsl(smtp.getBoolean("ssl", false))
        .setStarttls(StartTLSOptions.valueOf(smtp.getString("starttls", "OPTIONAL").toUpperCase(java.util.Locale.ROOT)));
    if (username != null && !username.isBlank()) {
      config.setUsername(username).setPassword(password).setLogin(LoginOption.REQUIRED);
    } else {
      config.setLogin(LoginOption.DISABLED);
    }
    this.client = MailClient.create(vertx, config);
    this.from = from;
    int at = from.lastIndexOf('@');
    this.domain = at < 0 ? "mingus.local" : from.substring(at + 1).replaceAll("[^A-Za-z0-9.-]", "");
  }

  Future<SendOutcome> send(Delivery delivery) {
    if (delivery.target() == null) {
      return Future.succeededFuture(SendOutcome.skipped("no_email_address"));
    }
    String messageId = "<" + delivery.idempotencyKey().replace(':', '.') + "@" + domain + ">";
    MailMessage message = new MailMessage().setFrom(from).setTo(delivery.target()).setSubject(delivery.subject())
        .setText(delivery.body()).setHtml(delivery.bodyHtml())
        .setHeaders(MultiMap.caseInsensitiveMultiMap().add("Message-ID", messageId)
            .add("X-MINGUS-Notification", delivery.notificationId()));
    return client.sendMail(message)
        .map(result -> SendOutcome.sent(messageId))
        .recover(failure -> Future.succeededFuture(classify(failure)));
  }

  private static SendOutcome classify(Throwable failure) {
    if (failure instanceof SMTPException smtp && smtp.isPermanent()) {
      return SendOutcome.failed("SMTP " + smtp.getReplyCode() + " " + oneLine(smtp.getReplyMessage()));
    }
    return SendOutcome.retry("SMTP: " + oneLine(failure.getMessage()));
  }

  static String oneLine(String text) {
    if (text == null) {
      return "unknown error";
    }
    String line = text.replaceAll("\\s+", " ").strip();
    return line.length() > 300 ? line.substring(0, 300) : line;
  }

  Future<Void> close() {
    return client.close();
  }
}
