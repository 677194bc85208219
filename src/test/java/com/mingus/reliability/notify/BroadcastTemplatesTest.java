package com.mingus.reliability.notify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mingus.reliability.bus.FailureCodes;
import com.mingus.reliability.bus.NotificationType;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The three broadcast types have templates that show the operator's message on every channel, and bad requests are named. */
class BroadcastTemplatesTest {
  private static final String MESSAGE = "Back at 02:30 <UTC> & sooner";

  @Test
  void everyChannelOfTheThreeBroadcastTypesShowsTheMessage() {
    JsonObject values = new JsonObject().put("detail", MESSAGE).put("user_name", "Ann");
    for (NotificationType type : Broadcasts.TYPES) {
      Template template = DefaultTemplates.ALL.get(type);
      assertThat(template).as(type.wire()).isNotNull();
      for (String text : List.of(template.emailText(), template.inApp(), template.push(), template.sms())) {
        assertThat(TemplateRenderer.render(text, values, TemplateRenderer.Mode.TEXT)).as(type.wire() + ": " + text)
            .contains(MESSAGE);
      }
      assertThat(TemplateRenderer.render(template.emailHtml(), values, TemplateRenderer.Mode.HTML)).as(type.wire())
          .contains("Back at 02:30 &lt;UTC&gt; &amp; sooner");
    }
  }

  @Test
  void aBroadcastRequestIsCheckedAndItsSegmentNormalised() {
    JsonObject ok = Broadcasts.checked(new JsonObject().put("type", "feature_update").put("message", "  New!  ")
        .put("segment", new JsonObject().put("user_ids", new JsonArray().add("b").add("a").add("b"))));
    assertThat(ok.getString("broadcast_id")).isNotBlank();
    assertThat(ok.getString("message")).isEqualTo("New!");
    assertThat(ok.getJsonObject("segment").getJsonArray("user_ids").getList()).containsExactly("a", "b");
    for (JsonObject bad : List.of(
        new JsonObject().put("type", "account_update").put("message", "x").put("segment", new JsonObject().put("all", true)),
        new JsonObject().put("type", "feature_update").put("message", " ").put("segment", new JsonObject().put("all", true)),
        new JsonObject().put("type", "feature_update").put("message", "x".repeat(Broadcasts.MAX_MESSAGE + 1))
            .put("segment", new JsonObject().put("all", true)),
        new JsonObject().put("type", "feature_update").put("message", "x").put("segment", new JsonObject()),
        new JsonObject().put("type", "feature_update").put("message", "x").put("segment", new JsonObject().put("everyone", true)),
        new JsonObject().put("type", "feature_update").put("message", "x").put("broadcast_id", "has space")
            .put("segment", new JsonObject().put("all", true)),
        new JsonObject().put("type", "feature_update").put("message", "x").put("title", 7)
            .put("segment", new JsonObject().put("all", true)))) {
      assertThatThrownBy(() -> Broadcasts.checked(bad)).as(bad.encode()).isInstanceOfSatisfying(Refusal.class,
          refusal -> assertThat(refusal.code()).isEqualTo(FailureCodes.INVALID_REQUEST));
    }
  }
}
