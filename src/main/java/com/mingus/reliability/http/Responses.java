package com.mingus.reliability.http;

import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.BusFailure;
import com.mingus.reliability.bus.FailureCodes;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** JSON answers, and the one place where a bus failure code becomes an HTTP status. */
final class Responses {
  private static final Logger log = LoggerFactory.getLogger(Responses.class);

  private Responses() {}

  static void json(RoutingContext ctx, int status, JsonObject body) {
    if (ctx.response().ended()) {
      return;
    }
    ctx.response()
        .setStatusCode(status)
        .putHeader("Content-Type", "application/json; charset=utf-8")
        .putHeader("Cache-Control", "no-store")
        .end(body.encode());
  }

  static void error(RoutingContext ctx, int status, String code, String message) {
    json(ctx, status, new JsonObject().put("success", false)
        .put("error", new JsonObject().put("code", code).put("message", message)));
  }

  /** Maps a failure from the bus (or anything else) to a status and an error body. */
  static void failure(RoutingContext ctx, Throwable failure) {
    BusFailure typed = failure instanceof Bus.BusException busException ? busException.failure() : BusFailure.of(failure);
    if (typed.infrastructure()) {
      error(ctx, 503, "SERVICE_UNAVAILABLE", "A part of the server did not answer in time; try again shortly");
      return;
    }
    switch (typed.code()) {
      case FailureCodes.INVALID_REQUEST -> error(ctx, 400, "INVALID_REQUEST", typed.message());
      case FailureCodes.NOT_FOUND -> error(ctx, 404, "NOT_FOUND", typed.message());
      case FailureCodes.CONFLICT -> error(ctx, 409, "CONFLICT", typed.message());
      case FailureCodes.RATE_LIMITED -> {
        // Plaid's budget, not the caller's: a short wait is the honest advice
        ctx.response().putHeader("Retry-After", "10");
        error(ctx, 429, "RATE_LIMITED", typed.message());
      }
      case FailureCodes.UPSTREAM -> error(ctx, 502, "PLAID_ERROR", typed.message());
      case FailureCodes.UNAVAILABLE -> error(ctx, 503, "SERVICE_UNAVAILABLE", typed.message());
      default -> {
        log.warn("Request {} {} failed: {}", ctx.request().method(), ctx.normalizedPath(), typed.message());
        error(ctx, 500, "INTERNAL_ERROR", "The server failed to answer this request");
      }
    }
  }
}
