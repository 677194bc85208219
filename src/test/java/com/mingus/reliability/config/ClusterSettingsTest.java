package com.mingus.reliability.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ClusterSettingsTest {
  private static final Map<String, String> SHARED = Map.of("MINGUS_JWT_SECRET", "a-shared-secret-of-thirty-two-chars!!",
      "TOKEN_ENCRYPTION_KEYS", "k1:bWluZ3VzLXRlc3QtdG9rZW4ta2V5LTMyLWJ5dGVzISE=");

  @Test
  void aClusterNeedsTheSecretsEveryNodeShares() {
    assertThatThrownBy(() -> Settings.fromOverrides(Map.of("CLUSTER", "true",
        "TOKEN_ENCRYPTION_KEYS", SHARED.get("TOKEN_ENCRYPTION_KEYS"))))
        .isInstanceOf(ConfigException.class).hasMessageStartingWith("MINGUS_JWT_SECRET: is required with CLUSTER=true");
    assertThatThrownBy(() -> Settings.fromOverrides(Map.of("CLUSTER", "true",
        "MINGUS_JWT_SECRET", SHARED.get("MINGUS_JWT_SECRET"))))
        .isInstanceOf(ConfigException.class).hasMessageStartingWith("TOKEN_ENCRYPTION_KEYS: is required with CLUSTER=true");
  }

  @Test
  void defaultsAreOffWithLoopbackScanningTheHazelcastPortRange() {
    ClusterSettings cluster = Settings.fromOverrides(Map.of()).clustering();
    assertThat(cluster.enabled()).isFalse();
    assertThat(cluster.name()).isEqualTo("mingus-reliability");
    assertThat(cluster.members()).containsExactly(new ClusterSettings.Member("127.0.0.1", 0));
    assertThat(cluster.port()).isEqualTo(5701);
    assertThat(cluster.portCount()).isEqualTo(20);
    assertThat(cluster.host()).isEqualTo("127.0.0.1");
    assertThat(cluster.eventBusHost()).isNull();
    assertThat(cluster.effectiveEventBusHost()).isEqualTo("127.0.0.1");
    assertThat(cluster.tlsCa()).isNull();
    assertThat(cluster.tlsCert()).isNull();
    assertThat(cluster.tlsKey()).isNull();
    assertThat(cluster.tlsDir()).isNull();
    assertThat(cluster.eventBusPort()).isZero();
    assertThat(cluster.memberTimeoutMs()).isEqualTo(5000);
  }

  @Test
  void everyVariableReachesItsSetting() {
    Map<String, String> env = new java.util.HashMap<>(SHARED);
    env.putAll(Map.of("CLUSTER", "true", "CLUSTER_NAME", "prod-eu",
        "CLUSTER_MEMBERS", "node1, node2:5702,10.0.0.7,[fd00::7]:5701", "CLUSTER_HOST", "10.0.0.5",
        "CLUSTER_PORT", "5801", "CLUSTER_PORT_COUNT", "3", "EVENT_BUS_HOST", "10.0.0.5", "EVENT_BUS_PORT", "15701",
        "CLUSTER_MEMBER_TIMEOUT_MS", "8000"));
    Settings settings = Settings.fromOverrides(env);
    ClusterSettings cluster = settings.clustering();
    assertThat(settings.cluster()).isTrue();
    assertThat(cluster.name()).isEqualTo("prod-eu");
    assertThat(cluster.members()).extracting(ClusterSettings.Member::address)
        .containsExactly("node1", "node2:5702", "10.0.0.7", "[fd00::7]:5701");
    assertThat(cluster.host()).isEqualTo("10.0.0.5");
    assertThat(cluster.port()).isEqualTo(5801);
    assertThat(cluster.portCount()).isEqualTo(3);
    assertThat(cluster.eventBusHost()).isEqualTo("10.0.0.5");
    assertThat(cluster.eventBusPort()).isEqualTo(15701);
    assertThat(cluster.memberTimeoutMs()).isEqualTo(8000);
  }

  @ParameterizedTest(name = "{0}={1} is refused naming {2}")
  @CsvSource(delimiter = '|', value = {
      "CLUSTER_MEMBERS|10.0.0.1-5|range",
      "CLUSTER_MEMBERS|10.0.0.*|range",
      "CLUSTER_MEMBERS|127.0.0.1:5701-5703|port range",
      "CLUSTER_MEMBERS|node1:99999|no valid port",
      "CLUSTER_MEMBERS|node1:abc|no valid port",
      "CLUSTER_MEMBERS|fd00::1|IPv6",
      "CLUSTER_MEMBERS|node_1|not a host",
      "CLUSTER_MEMBERS|' , '|at least one member",
      "CLUSTER_PORT|0|between 1 and 65535",
      "CLUSTER_PORT|abc|whole number",
      "CLUSTER_PORT_COUNT|0|between 1 and 1000",
      "EVENT_BUS_PORT|70000|between 0 and 65535",
      "CLUSTER_HOST|not a host|not a host",
      "EVENT_BUS_HOST|a/b|not a host",
      "CLUSTER_MEMBER_TIMEOUT_MS|10|between 1000"})
  void aWrongClusterSettingStopsStartUpWithOneLineNamingIt(String variable, String value, String reason) {
    Map<String, String> env = new java.util.HashMap<>(SHARED);
    env.put("CLUSTER", "true");
    env.put(variable, value);
    assertThatThrownBy(() -> Settings.fromOverrides(env))
        .isInstanceOf(ConfigException.class)
        .satisfies(e -> assertThat(((ConfigException) e).setting()).isEqualTo(variable))
        .hasMessageContaining(reason)
        .hasMessageNotContaining("\n");
  }
}
