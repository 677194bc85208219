package com.mingus.reliability.notify;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.bus.BusMessage;
import com.mingus.reliability.bus.DeliveryAttempt;
import com.mingus.reliability.bus.DeliveryResult;
import com.mingus.reliability.bus.DeliveryStatus;
import com.mingus.reliability.bus.MessageCodecs;
import com.mingus.reliability.bus.NotificationCreated;
import com.mingus.reliability.bus.NotificationPage;
import com.mingus.reliability.bus.NotificationType;
import com.mingus.reliability.bus.NotificationView;
import com.mingus.reliability.bus.NotifyDeliveries;
import com.mingus.reliability.bus.NotifyList;
import com.mingus.reliability.bus.NotifyMarkRead;
import com.mingus.reliability.bus.NotifyPreferences;
import com.mingus.reliability.bus.NotifyPreferencesGet;
import com.mingus.reliability.bus.NotifySend;
import com.mingus.reliability.bus.NotifySendResult;
import com.mingus.reliability.bus.NotifySendTest;
import com.mingus.reliability.bus.NotifyTestResult;
import com.mingus.reliability.bus.PushSubscription;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every notify message survives the trip between nodes (type name and JSON) unchanged. */
class NotifyContractTest {

  @Test
  void everyNotifyRecordCrossesTheWireUnchanged() {
    NotificationView view = new NotificationView("n1", "bank_maintenance", "low", "Title", "Message", "c1", false,
        "2026-11-29T08:00:00Z", 2);
    DeliveryAttempt attempt = new DeliveryAttempt(1, "retrying", null, "SMTP: refused", "2026-11-29T08:00:00Z",
        "2026-11-29T08:00:01Z");
    DeliveryStatus status = new DeliveryStatus("d1", "email", "a@example.com", "retrying", null, 1, null, "SMTP: refused",
        "2026-11-29T08:00:05Z", null, "n1:email", List.of(attempt));
    PushSubscription subscription = new PushSubscription("https://push.example/abc", "BKey", "auth");
    List<BusMessage> messages = List.of(
        NotifySend.of("u1", NotificationType.PLAID_CONNECTION_ISSUE, "c1", "c1:issue:ITEM_LOGIN_REQUIRED",
            new JsonObject().put("institution_name", "Chase")),
        new NotifySend("u1", "security_alert", null, null, null, List.of("email", "sms"), "critical", "Ada", "a@example.com"),
        new NotifySendResult("n1", true, List.of(status)),
        new NotifySendTest("u1", "bank_maintenance", List.of("email", "in_app"), "Ada", null, new JsonObject()),
        new NotifyTestResult(true, "Test notification sent", "n1", List.of(new DeliveryResult("email", true, "Email sent successfully"))),
        new NotifyList("u1", 20, "WyJ4Il0.AAAAAAAAAAA", true),
        new NotificationPage(List.of(view), 3, 41, 20, "WyJ4Il0.AAAAAAAAAAA", true),
        new NotifyMarkRead("u1", "n1"),
        view,
        new NotificationCreated("u1", view),
        new NotifyPreferencesGet("u1"),
        new NotifyPreferences("u1", "Europe/Berlin", "22:00", "07:00", new JsonObject().put("*", new JsonObject()
            .put("webhook", true)), "a@example.com", "+14155550100", List.of(subscription), "https://hooks.example/in",
            null, true, null),
        NotifyDeliveries.query("u1", "n1"),
        new NotifyDeliveries("u1", "n1", List.of(status)));
    MessageCodecs codec = new MessageCodecs();
    for (BusMessage message : messages) {
      Buffer wire = Buffer.buffer();
      codec.encodeToWire(wire, message);
      assertThat(codec.decodeFromWire(0, wire)).as(message.getClass().getSimpleName()).isEqualTo(message);
    }
  }
}
