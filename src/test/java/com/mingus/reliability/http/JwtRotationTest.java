package com.mingus.reliability.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mingus.reliability.app.Application;
import com.mingus.reliability.config.ConfigException;
import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.config.Settings;
import com.mingus.reliability.crypto.JwtIssuer;
import com.mingus.reliability.testsupport.TestApp;
import com.mingus.reliability.testsupport.TestDatabase;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Rotating the HS256 secret with an overlap (docs/secrets.md): with MINGUS_JWT_SECRET=new and
 * MINGUS_JWT_PREVIOUS_SECRETS=old, tokens signed with either verify (the server itself signs only with the
 * new one); once the old one is removed from the setting, its tokens are refused.
 */
class JwtRotationTest {
  private static final String OLD = "jwt-rotation-old-secret-0123456789abcdef";
  private static final String NEW = "jwt-rotation-new-secret-0123456789abcdef";
  private static final String OTHER = "jwt-rotation-someone-elses-secret-0123456789";

  private static int status(Application app, String secret) {
    String token = JwtIssuer.issue(app.vertx(), secret, "rotating-user", List.of("user"), "Rotating", "r@example.com", 600);
    return ApiCaller.withToken(app, token).get("/api/reliability/connections/health").status();
  }

  @Test
  void aPreviousSecretVerifiesDuringTheOverlapAndNotAfterItIsRemoved() {
    DatabaseTarget db = TestDatabase.fresh(JwtRotationTest.class);
    try (Application overlap = TestApp.start(db, Map.of("MINGUS_JWT_SECRET", NEW, "MINGUS_JWT_PREVIOUS_SECRETS", OLD))) {
      assertThat(status(overlap, NEW)).as("the new secret").isEqualTo(200);
      assertThat(status(overlap, OLD)).as("the previous secret, during the overlap").isEqualTo(200);
      assertThat(status(overlap, OTHER)).as("a secret never configured").isEqualTo(401);
    }
    try (Application after = TestApp.start(db, Map.of("MINGUS_JWT_SECRET", NEW))) {
      assertThat(status(after, NEW)).isEqualTo(200);
      assertThat(status(after, OLD)).as("the previous secret, once removed").isEqualTo(401);
    }
  }

  @Test
  void previousSecretsNeedACurrentOneAndTheSameLength() {
    assertThatThrownBy(() -> Settings.fromOverrides(Map.of("MINGUS_JWT_PREVIOUS_SECRETS", OLD)))
        .isInstanceOf(ConfigException.class).hasMessageStartingWith("MINGUS_JWT_PREVIOUS_SECRETS:");
    assertThatThrownBy(() -> Settings.fromOverrides(Map.of("MINGUS_JWT_SECRET", NEW, "MINGUS_JWT_PREVIOUS_SECRETS", "short")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("at least 32 characters")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("short"));
  }
}
