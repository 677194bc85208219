package com.mingus.reliability.plaid;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A tiny HTTP server on a free port that answers each Plaid path as a test scripts it, and keeps every
 * request it received (path, headers, body) for inspection.
 */
final class ScriptedPlaid {

  /** One request as the server received it. */
  record Received(String path, MultiMap headers, Buffer body) {
    JsonObject json() {
      return new JsonObject(body);
    }
  }

  /** What the server does with a request whose body has been read. */
  @FunctionalInterface
  interface Behaviour {
    void answer(HttpServerRequest request, Buffer body);
  }

  private final Vertx vertx;
  private final HttpServer server;
  private final Map<String, Behaviour> scripts = new ConcurrentHashMap<>();
  private final List<Received> received = new CopyOnWriteArrayList<>();
  private final java.util.concurrent.atomic.AtomicInteger trickleClosed = new java.util.concurrent.atomic.AtomicInteger();
  private final java.util.concurrent.atomic.AtomicInteger connections = new java.util.concurrent.atomic.AtomicInteger();

  private ScriptedPlaid(Vertx vertx, HttpServer server) {
    this.vertx = vertx;
    this.server = server;
  }

  static Future<ScriptedPlaid> start(Vertx vertx) {
    HttpServer server = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0));
    ScriptedPlaid scripted = new ScriptedPlaid(vertx, server);
    server.connectionHandler(connection -> scripted.connections.incrementAndGet());
    server.requestHandler(request -> request.body().onSuccess(body -> {
      scripted.received.add(new Received(request.path(), MultiMap.caseInsensitiveMultiMap().addAll(request.headers()), body));
      Behaviour behaviour = scripted.scripts.getOrDefault(request.path(),
          (r, b) -> r.response().setStatusCode(500).end("no script for " + r.path()));
      behaviour.answer(request, body);
    }));
    return server.listen().map(s -> scripted);
  }

  int port() {
    return server.actualPort();
  }

  String baseUrl() {
    return "http://127.0.0.1:" + port();
  }

  ScriptedPlaid on(String path, Behaviour behaviour) {
    scripts.put(path, behaviour);
    return this;
  }

  List<Received> received() {
    return List.copyOf(received);
  }

  Received last() {
    return received.get(received.size() - 1);
  }

  /** How many connections clients have opened. */
  int connectionsOpened() {
    return connections.get();
  }

  /** How many trickling answers the client has cut off by closing their connection. */
  int trickleConnectionsClosed() {
    return trickleClosed.get();
  }

  Future<Void> close() {
    return server.close();
  }

  // ---- behaviours ----

  static Behaviour json(int status, JsonObject body) {
    return (request, ignored) -> request.response().setStatusCode(status)
        .putHeader("Content-Type", "application/json").end(body.encode());
  }

  static Behaviour json(int status, JsonObject body, String header, String value) {
    return (request, ignored) -> request.response().setStatusCode(status).putHeader(header, value)
        .putHeader("Content-Type", "application/json").end(body.encode());
  }

  static Behaviour raw(int status, String contentType, String body) {
    return (request, ignored) -> request.response().setStatusCode(status)
        .putHeader("Content-Type", contentType).end(body);
  }

  /** Reads the request and never answers. */
  static Behaviour hang() {
    return (request, ignored) -> {};
  }

  /** Closes the connection without a byte of answer. */
  static Behaviour closeBeforeAnswer() {
    return (request, ignored) -> request.connection().close();
  }

  /** Promises a body, sends part of it, then closes the connection. */
  static Behaviour closeMidResponse() {
    return (request, ignored) -> {
      request.response().setStatusCode(200).putHeader("Content-Type", "application/json")
          .putHeader("Content-Length", "4096");
      request.response().write("{\"request_id\": \"half").onComplete(written -> request.connection().close());
    };
  }

  /** Answers 200 and then sends one space every interval, forever: never idle, never done. */
  ScriptedPlaid.Behaviour trickle(long intervalMs) {
    return (request, ignored) -> {
      request.response().setStatusCode(200).putHeader("Content-Type", "application/json").setChunked(true);
      request.response().write("{");
      long timer = vertx.setPeriodic(intervalMs, id -> request.response().write(" "));
      request.connection().closeHandler(closed -> {
        vertx.cancelTimer(timer);
        trickleClosed.incrementAndGet();
      });
      request.response().exceptionHandler(failure -> vertx.cancelTimer(timer));
    };
  }
}
