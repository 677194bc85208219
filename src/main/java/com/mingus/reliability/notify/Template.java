package com.mingus.reliability.notify;

import com.mingus.reliability.bus.NotificationChannel;
import com.mingus.reliability.bus.NotificationPriority;
import com.mingus.reliability.bus.NotificationType;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/** One type's stored template: its priority, default channels and the text of every channel. */
record Template(NotificationType type, NotificationPriority priority, List<NotificationChannel> channels,
    String subject, String emailHtml, String emailText, String inApp, String push, String sms, int version) {

  JsonObject toJson() {
    JsonArray names = new JsonArray();
    channels.forEach(channel -> names.add(channel.wire()));
    return new JsonObject().put("type", type.wire()).put("priority", priority.wire()).put("channels", names)
        .put("subject", subject).put("email_html", emailHtml).put("email_text", emailText).put("in_app", inApp)
        .put("push", push).put("sms", sms).put("version", version);
  }

  /** Every text field, for placeholder checks. */
  List<String> texts() {
    return List.of(subject, emailHtml, emailText, inApp, push, sms);
  }
}
