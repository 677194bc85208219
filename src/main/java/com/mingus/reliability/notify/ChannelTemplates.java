package com.mingus.reliability.notify;

import com.mingus.reliability.bus.NotificationChannel;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The operator's view of the templates: one per type and channel, with the texts that channel sends.
 * A type's stored {@link Template} holds them all; this maps each channel onto its columns:
 * email has {@code subject} (also the title every channel shows), {@code body} (the text part) and
 * {@code body_html}; in-app, push and SMS have a {@code body}. Webhooks carry the in-app title and message
 * in their JSON, so they have no template of their own.
 */
final class ChannelTemplates {
  static final List<NotificationChannel> TEMPLATED =
      List.of(NotificationChannel.EMAIL, NotificationChannel.IN_APP, NotificationChannel.PUSH, NotificationChannel.SMS);
  private static final Pattern PLACEHOLDER = Pattern.compile("\\{([a-z_][a-z0-9_]*)}");
  private static final int MAX_TEXT = 20_000;

  private ChannelTemplates() {}

  /** One channel's texts of a type: an edit, a draft or what is stored. */
  record Texts(String subject, String body, String bodyHtml) {}

  static Texts of(Template t, NotificationChannel channel) {
    return switch (channel) {
      case EMAIL -> new Texts(t.subject(), t.emailText(), t.emailHtml());
      case IN_APP -> new Texts(null, t.inApp(), null);
      case PUSH -> new Texts(null, t.push(), null);
      case SMS -> new Texts(null, t.sms(), null);
      case WEBHOOK -> throw Refusal.invalid("webhook has no template of its own: it carries the in_app title and message");
    };
  }

  static JsonObject view(Template t, NotificationChannel channel) {
    Texts texts = of(t, channel);
    JsonObject out = new JsonObject().put("type", t.type().wire()).put("channel", channel.wire())
        .put("priority", t.priority().wire()).put("default_channel", t.channels().contains(channel))
        .put("version", t.version());
    if (channel == NotificationChannel.EMAIL) {
      out.put("subject", texts.subject()).put("body", texts.body()).put("body_html", texts.bodyHtml());
    } else {
      // in-app and push show the type's subject as their title; it is edited on the email template
      out.put("title", channel == NotificationChannel.SMS ? null : t.subject()).put("body", texts.body());
    }
    return out.put("variables", variables(texts));
  }

  /** The channel of a request, which must be one with texts. */
  static NotificationChannel channel(String name) {
    NotificationChannel channel = NotificationChannel.fromWire(name);
    if (channel == null || !TEMPLATED.contains(channel)) {
      throw Refusal.invalid("no template for channel '" + name + "'; channels with templates: email, in_app, push, sms");
    }
    return channel;
  }

  /**
   * An operator's edit or draft, checked: {@code body} is required (and, when {@code requireBody} is false,
   * defaults to the stored one), {@code subject} and {@code body_html} belong to email only; every text is
   * non-empty, at most 20,000 characters and uses only known placeholders.
   */
  static Texts checked(JsonObject request, NotificationChannel channel, Texts stored, boolean requireBody) {
    String subject = text(request, "subject");
    String body = text(request, "body");
    String bodyHtml = text(request, "body_html");
    if (channel != NotificationChannel.EMAIL && (subject != null || bodyHtml != null)) {
      throw Refusal.invalid(channel.wire() + " templates have only a body (the subject and body_html are email's; "
          + "the title of in_app and push is the email subject)");
    }
    if (body == null && requireBody) {
      throw Refusal.invalid("body is required");
    }
    Texts out = new Texts(subject == null ? stored.subject() : subject, body == null ? stored.body() : body,
        bodyHtml == null ? stored.bodyHtml() : bodyHtml);
    Set<String> unknown = new LinkedHashSet<>();
    for (String text : new String[] {out.subject(), out.body(), out.bodyHtml()}) {
      unknown.addAll(TemplateRenderer.unknownPlaceholders(text));
    }
    if (!unknown.isEmpty()) {
      throw Refusal.invalid("unknown variables " + unknown + "; known: " + new TreeSet<>(TemplateRenderer.KNOWN.keySet()));
    }
    return out;
  }

  private static String text(JsonObject request, String field) {
    Object value = request.getValue(field);
    if (value == null) {
      return null;
    }
    if (!(value instanceof String s) || s.isBlank() || s.length() > MAX_TEXT) {
      throw Refusal.invalid(field + " must be a non-empty text of at most " + MAX_TEXT + " characters");
    }
    return s;
  }

  /** The texts rendered as a send renders them (NotificationPlanner.plan): subject on one line, HTML escaped. */
  static JsonObject render(Texts texts, NotificationChannel channel, JsonObject values) {
    JsonObject out = new JsonObject();
    if (texts.subject() != null) {
      out.put("subject", TemplateRenderer.render(texts.subject(), values, TemplateRenderer.Mode.LINE));
    }
    out.put("body", TemplateRenderer.render(texts.body(), values, TemplateRenderer.Mode.TEXT));
    if (texts.bodyHtml() != null) {
      out.put("body_html", TemplateRenderer.render(texts.bodyHtml(), values, TemplateRenderer.Mode.HTML));
    }
    if (channel == NotificationChannel.SMS && out.getString("body").length() > 1600) {
      out.put("note", "SMS bodies are cut at 1600 characters when sent");
    }
    return out;
  }

  /** Sample values for a preview, overridden by the request's {@code variables} (known names only). */
  static JsonObject sampleValues(JsonObject variables, String appUrl, String now) {
    JsonObject values = new JsonObject().put("user_name", "Alex").put("institution_name", "Sample Bank")
        .put("action_required_text", "Please reconnect your account in MINGUS.")
        .put("completion_time", "in about an hour").put("connection_id", "conn_sample").put("status", "delayed")
        .put("detail", "This is a sample detail.").put("action_url", appUrl).put("app_name", "MINGUS")
        .put("occurred_at", now);
    if (variables != null) {
      for (String name : variables.fieldNames()) {
        if (!TemplateRenderer.KNOWN.containsKey(name)) {
          throw Refusal.invalid("unknown variable '" + name + "'; known: " + new TreeSet<>(TemplateRenderer.KNOWN.keySet()));
        }
        Object value = variables.getValue(name);
        if (value != null && !(value instanceof String) && !(value instanceof Number) && !(value instanceof Boolean)) {
          throw Refusal.invalid("variable '" + name + "' must be a text, a number or a boolean");
        }
        values.put(name, value);
      }
    }
    return values;
  }

  private static JsonArray variables(Texts texts) {
    Set<String> names = new TreeSet<>();
    for (String text : new String[] {texts.subject(), texts.body(), texts.bodyHtml()}) {
      Matcher matcher = PLACEHOLDER.matcher(text == null ? "" : text);
      while (matcher.find()) {
        names.add(matcher.group(1));
      }
    }
    return new JsonArray(List.copyOf(names));
  }
}
