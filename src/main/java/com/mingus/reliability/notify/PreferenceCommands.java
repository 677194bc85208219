package com.mingus.reliability.notify;

import com.mingus.reliability.bus.NotificationChannel;
import com.mingus.reliability.bus.NotificationType;
import com.mingus.reliability.bus.NotifyPreferences;
import com.mingus.reliability.bus.NotifyPreferencesGet;
import com.mingus.reliability.bus.PushSubscription;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The preference commands: read, replace, and add or remove one push subscription; every value is checked
 * before it is stored (time zone, quiet hours, channel names, E.164 phone, email, push keys, URL syntax,
 * webhook secret form). The webhook secret is shown only in the answer that set or generated it.
 */
final class PreferenceCommands {
  private static final Pattern PHONE = Pattern.compile("^\\+[1-9][0-9]{6,14}$");
  private static final Pattern EMAIL = Pattern.compile("^[^\\s@<>,;\"]+@[^\\s@<>,;\"]+\\.[^\\s@<>,;\"]+$");

  private final NotifyStore store;

  PreferenceCommands(NotifyStore store) {
    this.store = store;
  }

  private static Refusal invalid(String message) {
    return Refusal.invalid(message);
  }

  private static boolean blank(String text) {
    return text == null || text.isBlank();
  }

  Future<NotifyPreferences> get(NotifyPreferencesGet request) {
    if (request == null || blank(request.userId())) {
      return Future.failedFuture(invalid("user_id is required"));
    }
    return store.asUser(request.userId(), own -> own.preferences(request.userId())).map(prefs -> view(prefs, false));
  }

  private static NotifyPreferences view(Preferences p, boolean showSecret) {
    return new NotifyPreferences(p.userId(), p.zone().getId(), p.quietStart() == null ? null : p.quietStart().toString(),
        p.quietEnd() == null ? null : p.quietEnd().toString(), p.channels(), p.email(), p.phone(), p.push(),
        p.webhookUrl(), showSecret ? p.webhookSecret() : null, p.webhookSecret() != null, p.webhookDisabled());
  }

  Future<NotifyPreferences> put(NotifyPreferences request) {
    if (request == null || blank(request.userId())) {
      return Future.failedFuture(invalid("user_id is required"));
    }
    Preferences wanted;
    try {
      wanted = validate(request);
    } catch (Refusal e) {
      return Future.failedFuture(e);
    }
    return store.asUser(request.userId(), own -> own.preferences(request.userId()).compose(stored -> {
      String url = wanted.webhookUrl();
      String secret = null;
      boolean show = false;
      String disabled = null;
      if (url != null) {
        if (request.webhookSecret() != null) {
          secret = request.webhookSecret();
          show = true;
        } else if (stored.webhookSecret() != null) {
          secret = stored.webhookSecret();
        } else {
          secret = StandardWebhooks.newSecret();
          show = true;
        }
        disabled = url.equals(stored.webhookUrl()) ? stored.webhookDisabled() : null;
      }
      Preferences next = new Preferences(wanted.userId(), wanted.zone(), wanted.quietStart(), wanted.quietEnd(),
          wanted.channels(), wanted.email(), wanted.phone(), wanted.push(), url, secret, disabled);
      boolean showSecret = show;
      return own.savePreferences(next).map(ignored -> view(next, showSecret));
    }));
  }

  /**
   * Adds or removes one push subscription, leaving the rest of the preferences as they are: a browser's
   * service worker subscribes on its own, without knowing the user's other settings.
   */
  Future<NotifyPreferences> subscribe(JsonObject body, boolean add) {
    String userId = body.getString("user_id");
    if (blank(userId)) {
      return Future.failedFuture(invalid("user_id is required"));
    }
    JsonObject subscription = body.getJsonObject("subscription");
    String endpoint = add ? (subscription == null ? null : subscription.getString("endpoint")) : body.getString("endpoint");
    if (blank(endpoint)) {
      return Future.failedFuture(invalid(add ? "subscription.endpoint is required" : "endpoint is required"));
    }
    return store.asUser(userId, own -> own.preferences(userId).compose(stored -> {
      List<PushSubscription> push = new ArrayList<>(stored.push().stream().filter(s -> !s.endpoint().equals(endpoint)).toList());
      if (add) {
        push.add(PushSubscription.fromJson(subscription));
      }
      NotifyPreferences merged = view(new Preferences(stored.userId(), stored.zone(), stored.quietStart(),
          stored.quietEnd(), stored.channels(), stored.email(), stored.phone(), List.copyOf(push), stored.webhookUrl(),
          null, null), false);
      Preferences checked;
      try {
        checked = validate(merged);
      } catch (Refusal e) {
        return Future.failedFuture(e);
      }
      Preferences next = new Preferences(stored.userId(), checked.zone(), checked.quietStart(), checked.quietEnd(),
          checked.channels(), checked.email(), checked.phone(), checked.push(), stored.webhookUrl(),
          stored.webhookSecret(), stored.webhookDisabled());
      return own.savePreferences(next).map(ignored -> view(next, false));
    }));
  }

  private Preferences validate(NotifyPreferences p) {
    ZoneId zone;
    try {
      zone = ZoneId.of(blank(p.timeZone()) ? "UTC" : p.timeZone());
    } catch (RuntimeException e) {
      throw invalid("time_zone '" + p.timeZone() + "' is not an IANA time zone");
    }
    if ((p.quietHoursStart() == null) != (p.quietHoursEnd() == null)) {
      throw invalid("quiet_hours needs both start and end (HH:mm)");
    }
    LocalTime start = time(p.quietHoursStart());
    LocalTime end = time(p.quietHoursEnd());
    JsonObject channels = p.channels() == null ? new JsonObject() : p.channels().copy();
    for (Map.Entry<String, Object> entry : channels) {
      if (!entry.getKey().equals("*") && NotificationType.parse(entry.getKey()) == null) {
        throw invalid("channels: unknown notification type '" + entry.getKey() + "'");
      }
      if (!(entry.getValue() instanceof JsonObject map)) {
        throw invalid("channels." + entry.getKey() + " must be an object of channel: true/false");
      }
      for (Map.Entry<String, Object> choice : map) {
        if (NotificationChannel.fromWire(choice.getKey()) == null || !(choice.getValue() instanceof Boolean)) {
          throw invalid("channels." + entry.getKey() + "." + choice.getKey() + " must be a channel set to true or false");
        }
      }
    }
    String address = blank(p.email()) ? null : p.email().trim();
    if (address != null && !validEmail(address)) {
      throw invalid("email is not an email address");
    }
    String phone = blank(p.phone()) ? null : p.phone().trim();
    if (phone != null && !PHONE.matcher(phone).matches()) {
      throw invalid("phone must be in E.164 form, such as +14155550100");
    }
    List<PushSubscription> push = p.pushSubscriptions() == null ? List.of() : p.pushSubscriptions();
    if (push.size() > 10) {
      throw invalid("at most 10 push subscriptions");
    }
    for (PushSubscription subscription : push) {
      try {
        SsrfGuard.checkSyntax(subscription.endpoint());
        WebPush.decodePoint(WebPush.decode(subscription.p256dh()));
        if (WebPush.decode(subscription.auth()).length != 16) {
          throw new IllegalArgumentException("keys.auth must be 16 bytes");
        }
      } catch (SsrfGuard.Refused e) {
        throw invalid("push subscription endpoint: " + e.getMessage());
      } catch (IllegalArgumentException e) {
        throw invalid("push subscription keys: " + e.getMessage());
      }
    }
    String url = blank(p.webhookUrl()) ? null : p.webhookUrl().trim();
    if (url != null) {
      try {
        SsrfGuard.checkSyntax(url);
      } catch (SsrfGuard.Refused e) {
        throw invalid("webhook url: " + e.getMessage());
      }
    }
    if (p.webhookSecret() != null && !StandardWebhooks.validSecret(p.webhookSecret())) {
      throw invalid("webhook secret must be whsec_ followed by base64 of 24 to 64 bytes");
    }
    return new Preferences(p.userId(), zone, start, end, channels, address, phone, List.copyOf(push), url, null, null);
  }

  private static LocalTime time(String text) {
    if (text == null) {
      return null;
    }
    try {
      return LocalTime.parse(text.trim());
    } catch (DateTimeParseException e) {
      throw invalid("quiet_hours times must be HH:mm, got '" + text + "'");
    }
  }

  static boolean validEmail(String text) {
    return text != null && text.length() <= 254 && EMAIL.matcher(text).matches();
  }
}
