package com.mingus.reliability.notify;

import static com.mingus.reliability.notify.Requests.blank;
import static com.mingus.reliability.notify.Requests.clamp;
import static com.mingus.reliability.notify.Requests.uuid;

import com.mingus.reliability.bus.DeliveryStatus;
import com.mingus.reliability.bus.NotificationPage;
import com.mingus.reliability.bus.NotificationView;
import com.mingus.reliability.bus.NotifyDeliveries;
import com.mingus.reliability.bus.NotifyList;
import com.mingus.reliability.bus.NotifyMarkRead;
import com.mingus.reliability.bus.PageCursor;
import io.vertx.core.Future;
import java.util.List;
import java.util.UUID;

/**
 * Reading notifications: a user's page of them ({@code notify.list}), marking one read ({@code notify.mark_read})
 * and one notification's deliveries ({@code notify.deliveries}), the owner's own or, for an operator, with the
 * targets redacted. Another user's notification is answered as not found.
 */
final class Inbox {
  private final NotifyStore store;

  Inbox(NotifyStore store) {
    this.store = store;
  }

  Future<NotificationPage> list(NotifyList request) {
    if (request == null || blank(request.userId())) {
      return Future.failedFuture(Refusal.invalid("user_id is required"));
    }
    int limit = clamp(request.limit() <= 0 ? 20 : request.limit(), 1, 100);
    String list = "notifications:" + request.userId();
    Requests.Key after = Requests.after(list, request.cursor());
    return store.asUser(request.userId(), own -> {
      // one more than the page: whether there is a next one without counting what is left
      Future<List<NotificationView>> page = own.list(request.userId(), limit + 1, after == null ? null : after.at(),
          after == null ? null : after.id(), request.unreadOnly());
      Future<int[]> counts = own.counts(request.userId());
      return Future.all(page, counts).map(both -> {
        int total = request.unreadOnly() ? counts.result()[1] : counts.result()[0];
        List<NotificationView> rows = page.result();
        boolean hasMore = rows.size() > limit;
        List<NotificationView> shown = hasMore ? rows.subList(0, limit) : rows;
        NotificationView last = shown.isEmpty() ? null : shown.get(shown.size() - 1);
        String next = hasMore ? PageCursor.encode(list, last.createdAt(), last.id()) : null;
        return new NotificationPage(List.copyOf(shown), counts.result()[1], total, limit, next, hasMore);
      });
    });
  }

  Future<NotificationView> markRead(NotifyMarkRead request) {
    if (request == null || blank(request.userId())) {
      return Future.failedFuture(Refusal.invalid("user_id is required"));
    }
    UUID id = uuid(request.notificationId());
    if (id == null) {
      return Future.failedFuture(Refusal.notFound("no such notification"));
    }
    return store.asUser(request.userId(), own -> own.markRead(request.userId(), id)).compose(view -> view == null
        ? Future.failedFuture(Refusal.notFound("no such notification"))
        : Future.succeededFuture(view));
  }

  Future<NotifyDeliveries> deliveries(NotifyDeliveries request) {
    UUID id = request == null ? null : uuid(request.notificationId());
    if (id == null || OperatorAlerts.USER.equals(request.userId())) {
      return Future.failedFuture(Refusal.notFound("no such notification"));
    }
    // the owner's own, or (no user) an operator's
    return store.asUser(request.userId(), scoped -> scoped.deliveries(id, request.userId())).compose(list -> list == null
        ? Future.failedFuture(Refusal.notFound("no such notification"))
        : Future.succeededFuture(new NotifyDeliveries(request.userId(), id.toString(),
            request.userId() == null ? list.stream().map(Inbox::redacted).toList() : list)));
  }

  /** An operator's view of a delivery: the target redacted (the owner's own view keeps it). */
  private static DeliveryStatus redacted(DeliveryStatus d) {
    return new DeliveryStatus(d.id(), d.channel(), Targets.redact(d.channel(), d.target()), d.status(), d.reason(),
        d.attemptCount(), d.providerMessageId(), d.lastError(), d.nextAttemptAt(), d.sentAt(), d.idempotencyKey(),
        d.attempts());
  }
}
