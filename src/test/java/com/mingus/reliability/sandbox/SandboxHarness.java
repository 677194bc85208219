package com.mingus.reliability.sandbox;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A sandbox on a free port and a raw HTTP client for it, for tests that drive it step by step from the
 * test thread (each call blocks the JUnit thread, never an event loop).
 */
final class SandboxHarness implements AutoCloseable {
  static final String CLIENT_ID = "test-client";
  static final String SECRET = "test-secret-0123456789abcdef";

  /** A response: status, raw body, and the body as JSON when it is JSON. */
  record Response(int status, String raw, JsonObject json) {
    String errorCode() {
      return json == null ? null : json.getString("error_code");
    }
  }

  /** A webhook as the receiver got it. */
  record Received(MultiMap headers, Buffer body) {
    JsonObject json() {
      return body.toJsonObject();
    }
  }

  final Vertx vertx;
  final WebClient client;
  final int port;
  final String deploymentId;

  private SandboxHarness(Vertx vertx, WebClient client, int port, String deploymentId) {
    this.vertx = vertx;
    this.client = client;
    this.port = port;
    this.deploymentId = deploymentId;
  }

  static JsonObject baseConfig() {
    return new JsonObject().put("port", 0).put("seed", 42).put("client_id", CLIENT_ID).put("secret", SECRET)
        .put("today", "2026-11-27");
  }

  static SandboxHarness start(Vertx vertx, JsonObject overrides) {
    SandboxVerticle verticle = new SandboxVerticle();
    JsonObject config = baseConfig().mergeIn(overrides, true);
    String id = await(vertx.deployVerticle(verticle, new DeploymentOptions().setConfig(config)));
    WebClient client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1")
        .setDefaultPort(verticle.port()).setIdleTimeout(30));
    return new SandboxHarness(vertx, client, verticle.port(), id);
  }

  static <T> T await(Future<T> future) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("did not complete: " + e.getMessage(), e);
    }
  }

  /** A Plaid call with the credentials in the headers, as Plaid's client libraries send them. */
  Response plaid(String path, JsonObject body) {
    return send(client.post(path).putHeader("PLAID-CLIENT-ID", CLIENT_ID).putHeader("PLAID-SECRET", SECRET)
        .putHeader("Plaid-Version", "2020-09-14"), Buffer.buffer(body.encode()));
  }

  Response raw(String path, MultiMap headers, Buffer body) {
    HttpRequest<Buffer> request = client.post(path);
    request.headers().addAll(headers);
    return send(request, body);
  }

  Response control(HttpMethod method, String path, JsonObject body) {
    return send(client.request(method, path), body == null ? null : Buffer.buffer(body.encode()));
  }

  private static Response send(HttpRequest<Buffer> request, Buffer body) {
    HttpResponse<Buffer> response = await(body == null ? request.send() : request.sendBuffer(body));
    String raw = response.bodyAsString();
    JsonObject json = null;
    try {
      json = raw == null ? null : new JsonObject(raw);
    } catch (RuntimeException notJson) {
      // the test looks at raw
    }
    return new Response(response.statusCode(), raw, json);
  }

  /** Creates an Item through the control surface and exchanges its public token: {item_id, access_token}. */
  JsonObject newItem(JsonObject spec) {
    Response created = control(HttpMethod.POST, "/__control/items", spec);
    if (created.status() != 201) {
      throw new IllegalStateException("item not created: " + created.raw());
    }
    Response exchanged = plaid("/item/public_token/exchange",
        new JsonObject().put("public_token", created.json().getString("public_token")));
    if (exchanged.status() != 200) {
      throw new IllegalStateException("exchange failed: " + exchanged.raw());
    }
    return exchanged.json();
  }

  JsonObject newItem(int transactions, String webhook) {
    JsonObject spec = new JsonObject().put("institution_id", "ins_109508").put("transactions", transactions);
    if (webhook != null) {
      spec.put("webhook", webhook);
    }
    return newItem(spec);
  }

  JsonObject sync(String accessToken, String cursor, int count) {
    JsonObject body = new JsonObject().put("access_token", accessToken).put("count", count);
    if (cursor != null) {
      body.put("cursor", cursor);
    }
    Response response = plaid("/transactions/sync", body);
    if (response.status() != 200) {
      throw new IllegalStateException("sync failed: " + response.raw());
    }
    return response.json();
  }

  @Override
  public void close() {
    client.close();
    await(vertx.undeploy(deploymentId));
  }

  /** An HTTP server standing in for the webhook receiver; answers each webhook with the next status. */
  static final class Receiver implements AutoCloseable {
    final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
    final HttpServer server;
    final AtomicInteger failuresLeft = new AtomicInteger();

    Receiver(Vertx vertx) {
      server = await(vertx.createHttpServer().requestHandler(request -> request.body().onSuccess(body -> {
        received.add(new Received(request.headers(), body));
        request.response().setStatusCode(failuresLeft.getAndDecrement() > 0 ? 500 : 200).end();
      })).listen(0, "127.0.0.1"));
    }

    String url() {
      return "http://127.0.0.1:" + server.actualPort() + "/api/plaid/webhook";
    }

    Received next() {
      try {
        Received next = received.poll(10, TimeUnit.SECONDS);
        if (next == null) {
          throw new AssertionError("no webhook arrived within 10 s");
        }
        return next;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted");
      }
    }

    /** The next webhook with this code, skipping others. */
    Received next(String code) {
      while (true) {
        Received next = next();
        if (code.equals(next.json().getString("webhook_code"))) {
          return next;
        }
      }
    }

    @Override
    public void close() {
      await(server.close());
    }
  }
}
