package com.mingus.reliability.http;

import com.mingus.reliability.crypto.JwtIssuer;
import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.app.Application;
import com.mingus.reliability.testsupport.Http;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.util.List;

/** A caller of the REST API from a test thread, as one user with one token. */
final class ApiCaller {
  static final String SECRET = "test-jwt-secret-for-the-suite-0123456789";

  final int port;
  final String token;
  final String userId;

  ApiCaller(int port, String token, String userId) {
    this.port = port;
    this.token = token;
    this.userId = userId;
  }

  static ApiCaller user(Application app, String userId) {
    return new ApiCaller(app.httpPort(), JwtIssuer.issue(app.vertx(), SECRET, userId, List.of("user"), "Test " + userId,
        userId + "@example.com", 3600), userId);
  }

  static ApiCaller admin(Application app, String userId) {
    return new ApiCaller(app.httpPort(), JwtIssuer.issue(app.vertx(), SECRET, userId, List.of("user", "admin"), "Operator",
        userId + "@example.com", 3600), userId);
  }

  static ApiCaller withToken(Application app, String token) {
    return new ApiCaller(app.httpPort(), token, null);
  }

  Http.Response get(String path) {
    return call("GET", path, null);
  }

  Http.Response post(String path, JsonObject body) {
    return call("POST", path, body);
  }

  Http.Response put(String path, JsonObject body) {
    return call("PUT", path, body);
  }

  Http.Response delete(String path) {
    return call("DELETE", path, null);
  }

  Http.Response call(String method, String path, JsonObject body) {
    return raw(method, path, body == null ? null : body.encode());
  }

  Http.Response raw(String method, String path, String body) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      request.header("Content-Type", "application/json");
    }
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    return Http.send(request);
  }

  /** Asserts the shared error shape and returns the error code. */
  static String errorCode(Http.Response response) {
    JsonObject body = response.json();
    assertThat(body.getBoolean("success")).as(response.body()).isFalse();
    assertThat(body.getJsonObject("error").getString("message")).isNotBlank();
    return body.getJsonObject("error").getString("code");
  }
}
