package com.mingus.reliability.db;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.function.Function;

/**
 * Row-level security's side in code (V14, docs/row-level-security.md): the transaction that serves a user's
 * request runs as {@code mingus_tenant} with {@code mingus.user_id} set to that user, so that a query that
 * forgot its {@code user_id} condition still reads and writes only that user's rows; an operator command runs
 * as {@code mingus_operator}. Both settings are transaction-local ({@code SET LOCAL}), so a pooled connection
 * goes back to the login role at commit or rollback and carries nothing to the next borrower.
 */
public final class Tenancy {
  public static final String TENANT_ROLE = "mingus_tenant";
  public static final String OPERATOR_ROLE = "mingus_operator";

  /** One round trip: {@code set_config(..., true)} is {@code SET LOCAL}, with the user id bound, not spliced in. */
  static final String AS_USER = "SELECT set_config('role', '" + TENANT_ROLE + "', true), "
      + "set_config('mingus.user_id', $1, true)";
  static final String AS_OPERATOR = "SELECT set_config('role', '" + OPERATOR_ROLE + "', true), "
      + "set_config('mingus.user_id', '', true)";

  private Tenancy() {}

  /** Runs {@code work} in one transaction as the given user; a blank user id is refused before any query. */
  public static <T> Future<T> asUser(Pool pool, String userId, Function<SqlConnection, Future<T>> work) {
    if (userId == null || userId.isBlank() || userId.length() > 256 || userId.chars().anyMatch(Character::isISOControl)) {
      return Future.failedFuture(new IllegalArgumentException("a user's transaction needs the user's id"));
    }
    return pool.withTransaction(conn -> pipelined(conn, conn.preparedQuery(AS_USER).execute(Tuple.of(userId)), work));
  }

  /** Runs {@code work} in one transaction as the operator role: every user's rows, within the operator's grants. */
  public static <T> Future<T> asOperator(Pool pool, Function<SqlConnection, Future<T>> work) {
    return pool.withTransaction(conn -> pipelined(conn, conn.preparedQuery(AS_OPERATOR).execute(), work));
  }

  /**
   * The work's first statements go out behind the scoping one without waiting for its answer (one round trip
   * less per request): the connection runs them in order, and should the scoping fail, the transaction is
   * aborted and PostgreSQL refuses every later statement in it, so none runs as the login role.
   */
  static <T> Future<T> pipelined(SqlConnection conn, Future<?> scoping,
      Function<SqlConnection, Future<T>> work) {
    Future<T> done;
    try {
      done = work.apply(conn);
    } catch (RuntimeException e) {
      done = Future.failedFuture(e);
    }
    Future<T> result = done;
    return scoping.compose(scoped -> result);
  }

  /**
   * The bus commands' convention: a request naming a user is that user's ({@link #asUser}); one without
   * ({@code user_id} absent) comes from an operator route or another verticle and runs as the operator.
   */
  public static <T> Future<T> scoped(Pool pool, String userId, Function<SqlConnection, Future<T>> work) {
    return userId == null ? asOperator(pool, work) : asUser(pool, userId, work);
  }
}
