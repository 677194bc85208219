package com.mingus.reliability.notify;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** What an operator sees of where a delivery went. */
class TargetsTest {

  @Test
  void operatorsSeeTheChannelsShapeButNeverTheWholeAddressOrACapabilityPath() {
    assertThat(Targets.redact("email", "ann.smith@example.com")).isEqualTo("a***@example.com");
    assertThat(Targets.redact("email", "@odd")).isEqualTo("***");
    assertThat(Targets.redact("sms", "+15551234567")).isEqualTo("***4567");
    assertThat(Targets.redact("sms", "123")).isEqualTo("***");
    assertThat(Targets.redact("push", "https://fcm.googleapis.com/fcm/send/abc:secret-token"))
        .isEqualTo("https://fcm.googleapis.com/***");
    assertThat(Targets.redact("webhook", "https://hooks.example.com:8443/u/42?token=s3cret"))
        .isEqualTo("https://hooks.example.com:8443/***");
    assertThat(Targets.redact("webhook", "not a url")).isEqualTo("***");
    assertThat(Targets.redact("in_app", null)).isNull();
  }
}
