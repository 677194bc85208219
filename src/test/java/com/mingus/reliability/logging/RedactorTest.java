package com.mingus.reliability.logging;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RedactorTest {

  @Test
  void plaidTokensJwtsAuthorizationAndSecretFieldsAreMasked() {
    String line = "exchange ok access_token=access-sandbox-8ab976e6-64bc-4b38-98f7-731e7a349970 "
        + "public-sandbox-0f2c1e5d-aaaa Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln "
        + "{\"secret\":\"plaid-secret-value\",\"client_id\":\"abc\"} password=hunter22";
    String out = Redactor.redact(line);
    assertThat(out)
        .doesNotContain("8ab976e6")
        .doesNotContain("0f2c1e5d")
        .doesNotContain("eyJhbGciOiJIUzI1NiJ9")
        .doesNotContain("plaid-secret-value")
        .doesNotContain("hunter22")
        .contains("client_id")
        .contains("exchange ok");
  }

  @Test
  void aRegisteredSecretIsMaskedWhereverItAppears() {
    Redactor.registerSecret("correct-horse-battery-staple");
    assertThat(Redactor.redact("connecting with correct-horse-battery-staple to smtp"))
        .isEqualTo("connecting with [redacted] to smtp");
  }

  @Test
  void ordinaryTextIsLeftAlone() {
    String text = "Sync of connection conn_123 finished: 42 added, 0 removed";
    assertThat(Redactor.redact(text)).isEqualTo(text);
  }
}
