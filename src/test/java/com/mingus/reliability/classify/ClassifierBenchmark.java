package com.mingus.reliability.classify;

import com.mingus.reliability.bus.Classification;
import com.mingus.reliability.bus.ClassifyRequest;
import com.mingus.reliability.bus.TransportFailure;
import io.vertx.core.json.JsonObject;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Classifications per second of the pure classifier (no bus), beside its peer: only decoding the same Plaid
 * error body with Vert.x's JSON, which every caller pays anyway. Command and figures: docs/bench/classify.md.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class ClassifierBenchmark {
  private static final long NOW = 1_800_000_000_000L;
  private static final String[] BODIES = {
      "{\"error_type\":\"INSTITUTION_ERROR\",\"error_code\":\"INSTITUTION_DOWN\",\"error_message\":\"this institution is not currently responding to this request. please try again soon\",\"display_message\":\"This financial institution is not currently responding to requests. We apologize for the inconvenience.\",\"request_id\":\"HNTDNrA8F1shFEW\",\"causes\":[],\"status\":null,\"documentation_url\":\"https://plaid.com/docs/errors/institution/#institution_down\",\"suggested_action\":null}",
      "{\"error_type\":\"RATE_LIMIT_EXCEEDED\",\"error_code\":\"TRANSACTIONS_SYNC_LIMIT\",\"error_message\":\"rate limit exceeded for attempts to access this item. please try again later\",\"display_message\":null,\"request_id\":\"m8MDnv9okwxFNBV\"}",
      "{\"error_type\":\"ITEM_ERROR\",\"error_code\":\"ITEM_LOGIN_REQUIRED\",\"error_code_reason\":\"OAUTH_INVALID_TOKEN\",\"error_message\":\"the login details of this item have changed (credentials, MFA, or required user action) and a user login is required to update this information. use Link's update mode to restore the item to a good state\",\"display_message\":\"The user's OAuth connection to this institution has been invalidated.\",\"request_id\":\"4zlKapIkTm8p5KM\"}",
      "{\"error_type\":\"TRANSACTIONS_ERROR\",\"error_code\":\"TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION\",\"error_message\":\"Underlying transaction data changed since last page was fetched. Please restart pagination from last update.\",\"display_message\":null,\"request_id\":\"Dt5a8Wx6vXGF1Pj\"}"};
  private static final int[] STATUSES = {400, 429, 400, 400};

  private ClassifyRequest[] fields;
  private ClassifyRequest[] raw;
  private Classifier classifier;
  private Classifier budgeted;
  private int next;

  @Setup
  public void setUp() {
    ClassifySettings settings = Classifiers.shipped();
    classifier = new Classifier(settings, new SplittableRandom(1), null);
    budgeted = new Classifier(settings, new SplittableRandom(1), RetryBudget.of(settings.budget()));
    fields = new ClassifyRequest[BODIES.length + 1];
    raw = new ClassifyRequest[BODIES.length];
    for (int i = 0; i < BODIES.length; i++) {
      JsonObject error = new JsonObject(BODIES[i]);
      fields[i] = new ClassifyRequest(error.getString("error_type"), error.getString("error_code"),
          error.getString("error_code_reason"), error.getString("error_message"), error.getString("display_message"),
          error.getString("request_id"), STATUSES[i], null, null, null, 1 + i % 3, "/transactions/sync", "ins_" + i,
          "item_" + i, "conn_" + i);
      raw[i] = ClassifyRequest.rawAnswer(STATUSES[i], BODIES[i], null, 1 + i % 3, "/transactions/sync", "ins_" + i);
    }
    fields[BODIES.length] = ClassifyRequest.transportFailure(TransportFailure.TIMEOUT, 2, "/item/get", "ins_9");
  }

  /** The classifier given the error object's fields, as the Plaid client hands them over. */
  @Benchmark
  public Classification classifyFields() {
    next = (next + 1) % fields.length;
    return classifier.classify(fields[next], NOW);
  }

  /** The same with the per-institution retry budget consulted (a synchronized map). */
  @Benchmark
  public Classification classifyFieldsWithBudget() {
    next = (next + 1) % fields.length;
    return budgeted.classify(fields[next], NOW + next);
  }

  /** The classifier given only the raw response body: it parses Plaid's JSON itself. */
  @Benchmark
  public Classification classifyRawBody() {
    next = (next + 1) % raw.length;
    return classifier.classify(raw[next], NOW);
  }

  /** Peer: only decoding the same bodies with Vert.x's JSON, no classification. */
  @Benchmark
  public JsonObject peerJsonDecodeOnly() {
    next = (next + 1) % BODIES.length;
    return new JsonObject(BODIES[next]);
  }
}
