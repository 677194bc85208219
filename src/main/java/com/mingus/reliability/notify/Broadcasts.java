package com.mingus.reliability.notify;

import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.ConnectionStatus;
import com.mingus.reliability.bus.NotificationType;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An operator's broadcast ({@code notify.broadcast}): one notification of a system_maintenance, feature_update
 * or compliance_update type to every user of a segment, through the same planning (preferences, quiet hours,
 * templates) and the same outbox as any send. The broadcast row and every recipient's notification are written
 * in one transaction, so a broadcast is wholly queued or not at all, and its {@code broadcast_id} makes a re-post
 * send nothing. Who is in a segment comes from its owners over the bus: the connection registry (sync) for
 * everyone and a bank's users, connection health (health) for a status.
 */
final class Broadcasts {
  private static final Logger log = LoggerFactory.getLogger(Broadcasts.class);
  static final Set<NotificationType> TYPES =
      Set.of(NotificationType.SYSTEM_MAINTENANCE, NotificationType.FEATURE_UPDATE, NotificationType.COMPLIANCE_UPDATE);
  /** Template values are cut at 500 characters; a longer message would be cut silently, so it is refused. */
  static final int MAX_MESSAGE = 500;
  static final int MAX_TITLE = 150;
  static final int MAX_USER_IDS = 1_000;
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9._:-]{1,100}");

  /** Plans one user's notification of the broadcast, as {@code notify.send} would. */
  interface Planner {
    OperatorStore.Planned plan(String userId, NotificationType type, Preferences prefs, JsonObject data, String title);
  }

  private final Vertx vertx;
  private final OperatorStore operatorStore;
  private final NotifyStore store;
  private final Planner planner;
  private final Runnable poll;
  private final long timeoutMs;
  private final int maxRecipients;

  Broadcasts(Vertx vertx, OperatorStore operatorStore, NotifyStore store, Planner planner, Runnable poll, long timeoutMs,
      int maxRecipients) {
    this.vertx = vertx;
    this.operatorStore = operatorStore;
    this.store = store;
    this.planner = planner;
    this.poll = poll;
    this.timeoutMs = timeoutMs;
    this.maxRecipients = maxRecipients;
  }

  /** A checked request: the broadcast as it will be stored (broadcast_id filled in). */
  static JsonObject checked(JsonObject body) {
    if (body == null) {
      throw Refusal.invalid("a broadcast object is required");
    }
    Object id = body.getValue("broadcast_id");
    if (id != null && !(id instanceof String text && ID.matcher(text).matches())) {
      throw Refusal.invalid("broadcast_id must be 1 to 100 letters, digits or . _ : -");
    }
    NotificationType type = body.getValue("type") instanceof String text ? NotificationType.parse(text) : null;
    if (type == null || !TYPES.contains(type)) {
      throw Refusal.invalid("type must be one of system_maintenance, feature_update, compliance_update");
    }
    String message = body.getValue("message") instanceof String text ? text.strip() : null;
    if (message == null || message.isEmpty()) {
      throw Refusal.invalid("message is required");
    }
    if (message.length() > MAX_MESSAGE) {
      throw Refusal.invalid("message must be at most " + MAX_MESSAGE + " characters");
    }
    Object titleValue = body.getValue("title");
    String title = null;
    if (titleValue != null) {
      if (!(titleValue instanceof String text) || text.isBlank() || text.strip().length() > MAX_TITLE) {
        throw Refusal.invalid("title must be a non-empty text of at most " + MAX_TITLE + " characters");
      }
      title = text.strip().replaceAll("\\p{Cntrl}", " ");
    }
    JsonObject segment = segment(body.getValue("segment"));
    return new JsonObject().put("broadcast_id", id == null ? UUID.randomUUID().toString() : (String) id)
        .put("type", type.wire()).put("title", title).put("message", message).put("segment", segment)
        .put("requested_by", body.getValue("requested_by") instanceof String by ? by : null);
  }

  private static JsonObject segment(Object value) {
    if (!(value instanceof JsonObject segment) || segment.size() != 1) {
      throw Refusal.invalid("segment must name exactly one of all, user_ids, institution_id, status");
    }
    String key = segment.fieldNames().iterator().next();
    Object v = segment.getValue(key);
    switch (key) {
      case "all" -> {
        if (!Boolean.TRUE.equals(v)) {
          throw Refusal.invalid("segment.all must be true");
        }
        return new JsonObject().put("all", true);
      }
      case "user_ids" -> {
        if (!(v instanceof JsonArray ids) || ids.isEmpty() || ids.size() > MAX_USER_IDS) {
          throw Refusal.invalid("segment.user_ids must list 1 to " + MAX_USER_IDS + " user ids");
        }
        Set<String> unique = new TreeSet<>();
        for (Object userId : ids) {
          if (!(userId instanceof String text) || text.isBlank() || text.length() > 200) {
            throw Refusal.invalid("segment.user_ids must hold non-empty user ids of at most 200 characters");
          }
          unique.add(text);
        }
        return new JsonObject().put("user_ids", new JsonArray(new ArrayList<>(unique)));
      }
      case "institution_id" -> {
        if (!(v instanceof String text) || text.isBlank() || text.length() > 200) {
          throw Refusal.invalid("segment.institution_id must be a non-empty institution id");
        }
        return new JsonObject().put("institution_id", text);
      }
      case "status" -> {
        boolean known = v instanceof String text
            && Arrays.stream(ConnectionStatus.values()).anyMatch(status -> status.wire().equals(text));
        if (!known) {
          throw Refusal.invalid("segment.status must be a connection status: " + Arrays.stream(ConnectionStatus.values())
              .map(ConnectionStatus::wire).toList());
        }
        return new JsonObject().put("status", v);
      }
      default -> throw Refusal.invalid("segment must name exactly one of all, user_ids, institution_id, status");
    }
  }

  /** Answers {broadcast_id, recipients, duplicate}; a re-post of a stored broadcast_id sends nothing. */
  Future<JsonObject> broadcast(JsonObject body) {
    JsonObject request;
    try {
      request = checked(body);
    } catch (Refusal e) {
      return Future.failedFuture(e);
    }
    String id = request.getString("broadcast_id");
    return operatorStore.broadcast(id).compose(stored -> {
      if (stored != null) {
        return Future.succeededFuture(repeat(request, stored));
      }
      return recipients(request.getJsonObject("segment")).compose(users -> {
        if (users.size() > maxRecipients) {
          return Future.failedFuture(Refusal.invalid("the segment holds " + users.size()
              + " users, more than notify.broadcast.max_recipients (" + maxRecipients + ")"));
        }
        NotificationType type = NotificationType.parse(request.getString("type"));
        JsonObject data = new JsonObject().put("detail", request.getString("message")).put("broadcast_id", id);
        return store.preferences(users).compose(prefs -> {
          List<OperatorStore.Planned> planned = new ArrayList<>(users.size());
          for (String user : users) {
            Preferences p = prefs.getOrDefault(user, Preferences.defaults(user));
            planned.add(planner.plan(user, type, p, data, request.getString("title")));
          }
          return operatorStore.createBroadcast(request, planned);
        }).compose(created -> {
          if (!created) {
            // another request with the same id committed first
            return operatorStore.broadcast(id).map(again -> repeat(request, again));
          }
          log.info("Broadcast {} ({}) queued for {} users by {}", id, request.getString("type"), users.size(),
              request.getString("requested_by", "an operator"));
          poll.run();
          return Future.succeededFuture(new JsonObject().put("broadcast_id", id).put("recipients", users.size())
              .put("duplicate", false));
        });
      });
    });
  }

  /** The answer to a broadcast_id seen before: the same broadcast again is fine; a different one is a conflict. */
  private static JsonObject repeat(JsonObject request, JsonObject stored) {
    boolean same = request.getString("type").equals(stored.getString("type"))
        && request.getString("message").equals(stored.getString("message"))
        && java.util.Objects.equals(request.getString("title"), stored.getString("title"))
        && request.getJsonObject("segment").equals(stored.getJsonObject("segment"));
    if (!same) {
      throw Refusal.conflict("broadcast_id " + stored.getString("broadcast_id") + " was used for a different broadcast");
    }
    return new JsonObject().put("broadcast_id", stored.getString("broadcast_id"))
        .put("recipients", stored.getInteger("recipients")).put("duplicate", true);
  }

  /** The segment's users, sorted and without repeats. */
  private Future<List<String>> recipients(JsonObject segment) {
    if (segment.containsKey("user_ids")) {
      return Future.succeededFuture(segment.getJsonArray("user_ids").stream().map(String::valueOf)
          .filter(user -> !OperatorAlerts.USER.equals(user)).toList());
    }
    boolean byStatus = segment.containsKey("status");
    String address = byStatus ? Addresses.HEALTH_CONNECTIONS : Addresses.SYNC_CONNECTIONS;
    return Bus.<Object>request(vertx, address, new JsonObject(), timeoutMs).map(reply -> {
      JsonObject body = reply instanceof JsonObject json ? json
          : reply instanceof com.mingus.reliability.bus.BusMessage message ? message.toJson() : new JsonObject();
      Set<String> users = new TreeSet<>();
      for (Object item : body.getJsonArray("connections", new JsonArray())) {
        JsonObject connection = item instanceof JsonObject json ? json : JsonObject.mapFrom(item);
        boolean member = segment.containsKey("all")
            || (byStatus && segment.getString("status").equals(connection.getString("status")))
            || (segment.containsKey("institution_id")
                && segment.getString("institution_id").equals(connection.getString("institution_id")));
        if (member && connection.getString("user_id") != null && !OperatorAlerts.USER.equals(connection.getString("user_id"))) {
          users.add(connection.getString("user_id"));
        }
      }
      return List.copyOf(users);
    });
  }
}
