package com.mingus.reliability.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.testsupport.TestApp;
import java.io.IOException;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The sandbox starts when it is our Plaid, and only then. */
class SandboxDeploymentTest {
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private HttpResponse<String> post(int port, String path, String body, String clientId, String secret) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .header("Content-Type", "application/json").header("PLAID-CLIENT-ID", clientId).header("PLAID-SECRET", secret)
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void withoutAPlaidBaseUrlTheSandboxServesPlaidWithTheCredentialsTheClientIsGiven() throws Exception {
    try (Application app = TestApp.start(SandboxDeploymentTest.class)) {
      var plaid = Deployer.plaidConfig(app.settings());
      assertThat(plaid.getString("base_url")).isEqualTo("http://127.0.0.1:" + app.sandboxPort());
      HttpResponse<String> institution = post(app.sandboxPort(), "/institutions/get_by_id",
          "{\"institution_id\":\"ins_109508\",\"country_codes\":[\"US\"]}", plaid.getString("client_id"),
          plaid.getString("secret"));
      assertThat(institution.statusCode()).as(institution.body()).isEqualTo(200);
      assertThat(institution.body()).contains("First Platypus Bank");
      HttpResponse<String> health = http.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + app.httpPort() + "/api/reliability/health")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(health.body()).contains("\"sandbox\"");
    }
  }

  @Test
  void withAPlaidBaseUrlNoSandboxIsStarted() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    try (Application app = TestApp.start(SandboxDeploymentTest.class, Map.of("PLAID_BASE_URL", "https://sandbox.plaid.com",
        "PLAID_CLIENT_ID", "id", "PLAID_SECRET", "secret", "SANDBOX_PORT", String.valueOf(port)))) {
      assertThat(app.settings().useSandbox()).isFalse();
      int sandboxPort = port;
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> post(sandboxPort, "/item/get", "{}", "id", "secret"))
          .isInstanceOf(ConnectException.class);
    }
  }
}
