package com.mingus.reliability.health;

import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.NotifySend;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Stand-ins for health's collaborators on their own addresses: sync's registry and institution commands,
 * and notify.send. They answer like the real ones and record what they were asked.
 */
final class StandIns extends VerticleBase {
  final JsonArray registry = new JsonArray();
  final List<JsonObject> pauses = new CopyOnWriteArrayList<>();
  final List<JsonObject> resumes = new CopyOnWriteArrayList<>();
  final List<JsonObject> probes = new CopyOnWriteArrayList<>();
  final List<NotifySend> notifications = new CopyOnWriteArrayList<>();
  final AtomicReference<String> probeConnection = new AtomicReference<>();
  /** While set, notify.send fails as a notify verticle that cannot write its outbox would. */
  final java.util.concurrent.atomic.AtomicBoolean notifyDown = new java.util.concurrent.atomic.AtomicBoolean();

  @Override
  public Future<?> start() {
    var bus = vertx.eventBus();
    return Future.all(List.of(
        bus.<JsonObject>consumer(Addresses.SYNC_CONNECTIONS,
            m -> m.reply(new JsonObject().put("connections", registry.copy()))).completion(),
        bus.<JsonObject>consumer(Addresses.SYNC_PAUSE_INSTITUTION, m -> {
          pauses.add(m.body());
          m.reply(new JsonObject().put("paused", true));
        }).completion(),
        bus.<JsonObject>consumer(Addresses.SYNC_RESUME_INSTITUTION, m -> {
          resumes.add(m.body());
          m.reply(new JsonObject().put("resumed", 1));
        }).completion(),
        bus.<JsonObject>consumer(Addresses.SYNC_PROBE_INSTITUTION, m -> {
          probes.add(m.body());
          m.reply(new JsonObject().put("institution_id", m.body().getString("institution_id"))
              .put("connection_id", probeConnection.get()));
        }).completion(),
        bus.<NotifySend>consumer(Addresses.NOTIFY_SEND, m -> {
          if (notifyDown.get()) {
            m.fail(com.mingus.reliability.bus.FailureCodes.UNAVAILABLE, "notify's database is down");
            return;
          }
          notifications.add(m.body());
          m.reply(new JsonObject().put("notification_id", "n" + notifications.size()).put("deduplicated", false));
        }).completion()));
  }

  List<NotifySend> notificationsFor(String connectionId) {
    return notifications.stream().filter(n -> connectionId.equals(n.connectionId())).toList();
  }
}
