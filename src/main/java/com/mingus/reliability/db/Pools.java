package com.mingus.reliability.db;

import com.mingus.reliability.config.DatabaseTarget;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClientOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;

/**
 * The pool factory for the verticles that own tables. Each verticle passes the {@code database} section
 * of its config ({@link #connectionConfig}) and closes its pool in {@code stop()}.
 */
public final class Pools {
  private Pools() {}

  /** The {@code database} config section handed to verticles: where PostgreSQL is and how big a pool. */
  public static JsonObject connectionConfig(DatabaseTarget target, int poolSize) {
    JsonObject json = new JsonObject()
        .put("host", target.host())
        .put("port", target.port())
        .put("database", target.database())
        .put("user", target.user())
        .put("pool_size", poolSize);
    if (target.password() != null) {
      json.put("password", target.password());
    }
    return json;
  }

  /** A pool for one verticle instance, from its {@code database} config section. */
  public static Pool create(Vertx vertx, JsonObject database, String name) {
    PgConnectOptions connect = new PgConnectOptions()
        .setHost(database.getString("host", "127.0.0.1"))
        .setPort(database.getInteger("port", 5432))
        .setDatabase(database.getString("database", "postgres"))
        .setUser(database.getString("user", "postgres"))
        .setPassword(database.getString("password", ""))
        .setCachePreparedStatements(true)
        .setPipeliningLimit(256);
    PoolOptions pool = new PoolOptions()
        .setName(name)
        .setMaxSize(database.getInteger("pool_size", 8))
        .setMaxWaitQueueSize(database.getInteger("max_wait_queue", 10_000))
        .setConnectionTimeout(database.getInteger("acquire_timeout_ms", 10_000))
        .setIdleTimeout(60)
        .setShared(false);
    NetClientOptions net = new NetClientOptions()
        .setConnectTimeout(database.getInteger("connect_timeout_ms", 5_000))
        .setTcpNoDelay(true);
    return PgBuilder.pool().with(pool).with(net).connectingTo(connect).using(vertx).build();
  }
}
