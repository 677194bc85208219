package com.mingus.reliability.notify;

import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.NotificationChannel;
import com.mingus.reliability.bus.NotificationPriority;
import com.mingus.reliability.bus.NotificationType;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The templates this instance sends with, and the operators' commands on them: list, replace a type's
 * template, edit one channel's texts, preview a draft. A save here is used from the next send on and is
 * published as {@code notify.templates.changed}, so every other instance reloads before its next send.
 */
final class TemplateCommands {
  private static final Logger log = LoggerFactory.getLogger(TemplateCommands.class);

  private final Vertx vertx;
  private final NotifyStore store;
  private final String appUrl;
  private volatile Map<NotificationType, Template> templates = new EnumMap<>(NotificationType.class);

  TemplateCommands(Vertx vertx, NotifyStore store, String appUrl) {
    this.vertx = vertx;
    this.store = store;
    this.appUrl = appUrl;
  }

  /** The type's template as this instance last loaded or saved it. */
  Template get(NotificationType type) {
    return templates.get(type);
  }

  /** The stored templates over the defaults (a type without a row sends with its default). */
  Future<Void> reload() {
    return store.templates().map(loaded -> {
      Map<NotificationType, Template> next = new EnumMap<>(NotificationType.class);
      next.putAll(DefaultTemplates.ALL);
      next.putAll(loaded);
      templates = next;
      return null;
    });
  }

  private static Refusal invalid(String message) {
    return Refusal.invalid(message);
  }

  Future<JsonObject> list() {
    return reload().map(ignored -> {
      JsonArray out = new JsonArray();
      for (NotificationType type : NotificationType.sendable()) {
        out.add(templates.get(type).toJson());
      }
      JsonArray perChannel = new JsonArray();
      for (NotificationType type : NotificationType.sendable()) {
        ChannelTemplates.TEMPLATED.forEach(channel -> perChannel.add(ChannelTemplates.view(templates.get(type), channel)));
      }
      return new JsonObject().put("templates", out).put("channel_templates", perChannel)
          .put("placeholders", new JsonArray(new ArrayList<>(new TreeSet<>(TemplateRenderer.KNOWN.keySet()))));
    });
  }

  Future<JsonObject> put(JsonObject body) {
    if (body == null) {
      return Future.failedFuture(invalid("a template object is required"));
    }
    NotificationType type = NotificationType.parse(body.getString("type"));
    if (type == null) {
      return Future.failedFuture(invalid("unknown notification type '" + body.getString("type") + "'"));
    }
    Template current = templates.get(type);
    Template next;
    try {
      NotificationPriority priority = body.getValue("priority") == null ? current.priority()
          : NotificationPriority.parse(body.getString("priority"));
      if (priority == null) {
        throw invalid("unknown priority '" + body.getValue("priority") + "'");
      }
      List<NotificationChannel> channels = body.getValue("channels") == null ? current.channels()
          : Requests.channels(body.getJsonArray("channels").stream().map(String::valueOf).toList(), false);
      Function<String, String> text = field -> {
        Object value = body.getValue(field);
        if (value == null) {
          return switch (field) {
            case "subject" -> current.subject();
            case "email_html" -> current.emailHtml();
            case "email_text" -> current.emailText();
            case "in_app" -> current.inApp();
            case "push" -> current.push();
            default -> current.sms();
          };
        }
        if (!(value instanceof String s) || s.isBlank() || s.length() > 20_000) {
          throw invalid(field + " must be a non-empty text of at most 20000 characters");
        }
        return s;
      };
      next = new Template(type, priority, channels, text.apply("subject"), text.apply("email_html"),
          text.apply("email_text"), text.apply("in_app"), text.apply("push"), text.apply("sms"), current.version());
      Set<String> unknown = new LinkedHashSet<>();
      next.texts().forEach(t -> unknown.addAll(TemplateRenderer.unknownPlaceholders(t)));
      if (!unknown.isEmpty()) {
        throw invalid("unknown placeholders " + unknown + "; known: " + new TreeSet<>(TemplateRenderer.KNOWN.keySet()));
      }
    } catch (Refusal e) {
      return Future.failedFuture(e);
    } catch (ClassCastException e) {
      return Future.failedFuture(invalid("channels must be a list of channel names"));
    }
    return store.updateTemplate(next, body.getString("updated_by")).map(saved -> {
      Map<NotificationType, Template> copy = new EnumMap<>(templates);
      copy.put(type, saved);
      templates = copy;
      log.info("Template {} updated to version {}", type.wire(), saved.version());
      vertx.eventBus().publish(Addresses.NOTIFY_TEMPLATES_CHANGED, new JsonObject().put("type", type.wire()));
      return saved.toJson();
    });
  }

  private static NotificationType templateType(JsonObject body) {
    NotificationType type = NotificationType.parse(body.getString("type"));
    if (type == null) {
      throw invalid("unknown notification type '" + body.getValue("type") + "'");
    }
    return type;
  }

  /** One channel's texts of one type, replaced after the same checks as a preview; answers the channel's view. */
  Future<JsonObject> edit(JsonObject body) {
    NotificationType type;
    NotificationChannel channel;
    ChannelTemplates.Texts edit;
    try {
      type = templateType(body);
      channel = ChannelTemplates.channel(body.getString("channel"));
      edit = ChannelTemplates.checked(body, channel, ChannelTemplates.of(templates.get(type), channel), true);
    } catch (Refusal e) {
      return Future.failedFuture(e);
    }
    return store.updateChannelTexts(type, channel, edit.subject(), edit.body(), edit.bodyHtml(), body.getString("updated_by"))
        .map(saved -> {
          Map<NotificationType, Template> copy = new EnumMap<>(templates);
          copy.put(type, saved);
          templates = copy;
          log.info("Template {}/{} updated to version {} by {}", type.wire(), channel.wire(), saved.version(),
              body.getString("updated_by", "an operator"));
          vertx.eventBus().publish(Addresses.NOTIFY_TEMPLATES_CHANGED, new JsonObject().put("type", type.wire()));
          return ChannelTemplates.view(saved, channel);
        });
  }

  /** A draft (or the stored texts) rendered with sample variables; nothing is saved. */
  Future<JsonObject> preview(JsonObject body) {
    try {
      NotificationType type = templateType(body);
      NotificationChannel channel = ChannelTemplates.channel(body.getString("channel"));
      Object variables = body.getValue("variables");
      if (variables != null && !(variables instanceof JsonObject)) {
        throw invalid("variables must be an object");
      }
      ChannelTemplates.Texts draft = ChannelTemplates.checked(body, channel,
          ChannelTemplates.of(templates.get(type), channel), false);
      JsonObject values = ChannelTemplates.sampleValues((JsonObject) variables, appUrl, Instant.now().toString());
      return Future.succeededFuture(new JsonObject().put("type", type.wire()).put("channel", channel.wire())
          .put("rendered", ChannelTemplates.render(draft, channel, values)).put("variables", values));
    } catch (Refusal e) {
      return Future.failedFuture(e);
    }
  }
}
