package com.mingus.reliability.db;

import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.PingReply;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.sqlclient.Pool;
import java.util.concurrent.TimeUnit;

/**
 * Answers {@code db.ping} with a {@code SELECT 1} on a small pool of its own, so the health endpoint can
 * tell whether the shared database answers without the HTTP verticle touching the database itself.
 */
public final class DatabaseMonitorVerticle extends VerticleBase {
  private Pool pool;
  private long timeoutMs;

  @Override
  public Future<?> start() {
    timeoutMs = config().getLong("ping_timeout_ms", 2_000L);
    pool = Pools.create(vertx, config().getJsonObject("database").copy().put("pool_size", 1)
        .put("connect_timeout_ms", (int) timeoutMs), "db-monitor");
    return Bus.answerPing(vertx, "db", this::check).completion();
  }

  private Future<PingReply> check() {
    return pool.query("SELECT 1").execute()
        .timeout(timeoutMs, TimeUnit.MILLISECONDS)
        .map(rows -> PingReply.up("db"))
        .otherwise(failure -> PingReply.down("db", EmbeddedDatabase.oneLine(failure.getMessage())));
  }

  @Override
  public Future<?> stop() {
    return pool == null ? Future.succeededFuture() : pool.close();
  }
}
