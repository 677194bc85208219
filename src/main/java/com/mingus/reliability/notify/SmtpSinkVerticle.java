package com.mingus.reliability.notify;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Commands;
import com.mingus.reliability.bus.Commands.CommandFailure;
import com.mingus.reliability.bus.FailureCodes;
import com.mingus.reliability.bus.PageCursor;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import jakarta.mail.Address;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded default's mail server: GreenMail on a free loopback port catches every mail, this verticle
 * keeps the headers of the last {@code max_messages} (subject, to, from, when; never a body) for the
 * dashboard, answers {@code notify.sink.messages}, and empties GreenMail's mailboxes so memory stays flat.
 */
final class SmtpSinkVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(SmtpSinkVerticle.class);

  private final int maxMessages;
  private final Deque<JsonObject> recent = new ArrayDeque<>();
  private volatile GreenMail greenMail;
  private volatile int port;
  private long timer;
  /** Each caught message's place, newest highest: the sort key of the list's pages. */
  private long sequence;

  SmtpSinkVerticle(int maxMessages) {
    this.maxMessages = maxMessages;
  }

  int port() {
    return port;
  }

  @Override
  public Future<?> start() {
    return vertx.executeBlocking(() -> {
      GreenMail server = new GreenMail(new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTP).dynamicPort());
      server.start();
      greenMail = server;
      port = server.getSmtp().getPort();
      return port;
    }).compose(p -> {
      log.info("Embedded SMTP sink listening on 127.0.0.1:{} (no SMTP_HOST configured)", p);
      timer = vertx.setPeriodic(1_000, id -> collect());
      return Commands.answer(vertx, Addresses.NOTIFY_SINK_MESSAGES, body -> {
        int limit = Math.max(1, Math.min(maxMessages, PageCursor.limit(body.getValue("limit"), 50, 10_000)));
        // newest first by the sink's own sequence number (docs/api.md, "Pagination")
        List<String> after = PageCursor.decode("mail", body.getString("cursor"), 1);
        long before;
        try {
          before = after == null ? Long.MAX_VALUE : Long.parseLong(after.get(0));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException(PageCursor.INVALID);
        }
        return collect().transform(ignored -> {
          JsonArray out = new JsonArray();
          List<JsonObject> snapshot = new ArrayList<>(recent);
          boolean hasMore = false;
          for (int i = snapshot.size() - 1; i >= 0; i--) {
            JsonObject message = snapshot.get(i);
            if (message.getLong("seq") >= before) {
              continue;
            }
            if (out.size() == limit) {
              hasMore = true;
              break;
            }
            out.add(message);
          }
          String next = hasMore ? PageCursor.encode("mail", String.valueOf(out.getJsonObject(out.size() - 1).getLong("seq")))
              : null;
          JsonArray shown = new JsonArray();
          out.forEach(message -> {
            JsonObject copy = ((JsonObject) message).copy();
            copy.remove("seq");
            shown.add(copy);
          });
          return Future.succeededFuture(new JsonObject().put("messages", shown).put("enabled", true).put("port", port)
              .put("next_cursor", next).put("has_more", hasMore));
        });
      }, failure -> new CommandFailure(FailureCodes.INTERNAL, "the mail sink failed to answer"));
    });
  }

  private Future<Void> collect() {
    GreenMail server = greenMail;
    if (server == null) {
      return Future.succeededFuture();
    }
    return vertx.<List<JsonObject>>executeBlocking(() -> {
      MimeMessage[] messages = server.getReceivedMessages();
      if (messages.length == 0) {
        return List.of();
      }
      server.purgeEmailFromAllMailboxes();
      List<JsonObject> summaries = new ArrayList<>();
      for (MimeMessage message : messages) {
        summaries.add(summary(message));
      }
      return summaries;
    }, true).map(summaries -> {
      for (JsonObject summary : summaries) {
        recent.addLast(summary.put("seq", ++sequence));
        while (recent.size() > maxMessages) {
          recent.removeFirst();
        }
      }
      return null;
    });
  }

  private static JsonObject summary(MimeMessage message) throws MessagingException {
    JsonArray to = new JsonArray();
    Address[] recipients = message.getRecipients(Message.RecipientType.TO);
    if (recipients != null) {
      for (Address address : recipients) {
        to.add(address.toString());
      }
    }
    Address[] from = message.getFrom();
    return new JsonObject().put("subject", message.getSubject()).put("to", to)
        .put("from", from == null || from.length == 0 ? null : from[0].toString())
        .put("message_id", message.getMessageID())
        .put("received_at", Instant.now().toString());
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timer);
    GreenMail server = greenMail;
    return server == null ? Future.succeededFuture() : vertx.executeBlocking(() -> {
      server.stop();
      return null;
    });
  }
}
