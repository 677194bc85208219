package com.mingus.reliability.notify;

import static com.mingus.reliability.notify.Requests.blank;

import com.mingus.reliability.bus.DeliveryResult;
import com.mingus.reliability.bus.NotificationChannel;
import com.mingus.reliability.bus.NotificationType;
import com.mingus.reliability.bus.NotifySendTest;
import com.mingus.reliability.bus.NotifyTestResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * {@code notify.send_test}: a test notification on exactly the channels asked for (no quiet hours, no dedupe),
 * through the outbox like any other, answered once every delivery's first attempt is known or after
 * {@code send_test_wait_ms}, with one line per channel saying what happened.
 */
final class SendTestCommand {
  private static final Set<String> DONE = Set.of("sent", "failed", "skipped");

  private final Vertx vertx;
  private final NotifyStore store;
  private final TemplateCommands templates;
  private final NotificationPlanner planner;
  private final Runnable poll;
  private final long waitMs;

  SendTestCommand(Vertx vertx, NotifyStore store, TemplateCommands templates, NotificationPlanner planner, Runnable poll,
      long waitMs) {
    this.vertx = vertx;
    this.store = store;
    this.templates = templates;
    this.planner = planner;
    this.poll = poll;
    this.waitMs = waitMs;
  }

  private static Refusal invalid(String message) {
    return Refusal.invalid(message);
  }

  Future<NotifyTestResult> send(NotifySendTest request) {
    if (request == null || blank(request.userId())) {
      return Future.failedFuture(invalid("user_id is required"));
    }
    NotificationType type = NotificationType.parse(request.type() == null ? "plaid_connection_issue" : request.type());
    if (type == null) {
      return Future.failedFuture(invalid("unknown notification type '" + request.type() + "'"));
    }
    List<NotificationChannel> requested;
    try {
      requested = request.channels() == null ? templates.get(type).channels() : Requests.channels(request.channels(), true);
    } catch (Refusal e) {
      return Future.failedFuture(e);
    }
    JsonObject data = new JsonObject().put("institution_name", "Test Bank").put("completion_time", "in about an hour")
        .put("action_required_text", "This is a test: no action is needed.").put("status", "test")
        .put("detail", "This is a test notification.");
    if (request.data() != null) {
      data.mergeIn(request.data());
    }
    return store.preferences(request.userId()).compose(prefs -> {
      NotificationPlanner.Plan plan = planner.plan(request.userId(), type, templates.get(type), prefs, requested, null,
          null, null, data, request.userName(), request.userEmail(), true);
      return store.create(plan.notification(), plan.deliveries(), 0);
    }).compose(created -> {
      poll.run();
      long deadline = System.currentTimeMillis() + waitMs;
      return awaitFirstAttempts(created.notificationId(), deadline).map(rows -> testResult(created.notificationId(),
          requested, rows));
    });
  }

  private Future<List<JsonObject>> awaitFirstAttempts(UUID notificationId, long deadline) {
    return store.firstAttempts(notificationId).compose(rows -> {
      boolean done = rows.stream().allMatch(row -> DONE.contains(row.getString("status"))
          || ("retrying".equals(row.getString("status")) && !row.getBoolean("leased")));
      if (done || System.currentTimeMillis() >= deadline) {
        return Future.succeededFuture(rows);
      }
      Promise<Void> later = Promise.promise();
      vertx.setTimer(50, id -> later.complete());
      return later.future().compose(ignored -> awaitFirstAttempts(notificationId, deadline));
    });
  }

  private NotifyTestResult testResult(UUID id, List<NotificationChannel> requested, List<JsonObject> rows) {
    List<DeliveryResult> results = new ArrayList<>();
    for (NotificationChannel channel : requested) {
      List<JsonObject> mine = rows.stream().filter(row -> channel.wire().equals(row.getString("channel"))).toList();
      long sent = mine.stream().filter(row -> "sent".equals(row.getString("status"))).count();
      if (sent > 0) {
        results.add(new DeliveryResult(channel.wire(), true, successText(channel, sent)));
        continue;
      }
      JsonObject row = mine.isEmpty() ? new JsonObject().put("status", "skipped").put("reason", "nothing to send")
          : mine.get(0);
      String status = row.getString("status");
      String detail = switch (status) {
        case "skipped" -> "Not sent: " + row.getString("reason");
        case "retrying" -> "Attempt failed (" + row.getString("last_error") + "); will retry";
        case "failed" -> "Failed: " + (row.getString("last_error") == null ? row.getString("reason") : row.getString("last_error"));
        default -> "Still pending after " + waitMs + " ms";
      };
      results.add(new DeliveryResult(channel.wire(), false, detail));
    }
    boolean all = results.stream().allMatch(DeliveryResult::success);
    return new NotifyTestResult(all, all ? "Test notification sent" : "Test notification sent; some channels failed",
        id.toString(), results);
  }

  private static String successText(NotificationChannel channel, long count) {
    return switch (channel) {
      case EMAIL -> "Email sent successfully";
      case IN_APP -> "In-app notification created";
      case PUSH -> "Push notification sent to " + count + " device" + (count == 1 ? "" : "s");
      case SMS -> "SMS sent successfully";
      case WEBHOOK -> "Webhook delivered";
    };
  }
}
