package com.mingus.reliability.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mingus.reliability.config.ConfigException;
import com.mingus.reliability.config.Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cluster identity: configured (files or inline PEM) or the dev default, and every refusal naming its variable. */
class ClusterIdentityTest {
  @TempDir Path dir;

  private record Issued(String caPem, String certPem, String keyPem) {}

  private static Issued issue(String caName) {
    KeyPair ca = Certificates.newKeyPair();
    X509Certificate caCert = Certificates.selfSignedCa(caName, ca, 30);
    KeyPair node = Certificates.newKeyPair();
    X509Certificate cert = Certificates.nodeCertificate("node1", node.getPublic(), caCert, ca.getPrivate(),
        List.of("node1", "10.0.0.5"), 30);
    return new Issued(Certificates.toPem(caCert), Certificates.toPem(cert), Certificates.toPem(node.getPrivate()));
  }

  @Test
  void configuredFilesAndInlinePemLoadAndVerifyEachOther() throws Exception {
    Issued issued = issue("prod CA");
    Path ca = Files.writeString(dir.resolve("ca.pem"), issued.caPem());
    Path cert = Files.writeString(dir.resolve("node.pem"), issued.certPem());
    Path key = Files.writeString(dir.resolve("node-key.pem"), issued.keyPem());
    Path devDir = dir.resolve("dev");
    ClusterIdentity fromFiles = ClusterIdentity.load(ca.toString(), cert.toString(), key.toString(), devDir, List.of());
    ClusterIdentity inline = ClusterIdentity.load(issued.caPem(), issued.certPem(), issued.keyPem(), devDir, List.of());
    fromFiles.verifyPeer(inline.chain());
    assertThat(fromFiles.describe()).startsWith("CLUSTER_TLS_CERT (CN=node1)").doesNotContain("PRIVATE");
    assertThat(Files.exists(devDir)).as("no dev CA made").isFalse();
  }

  @Test
  void aCertificateFromAnotherCaOrAForeignKeyIsRefused() {
    Issued ours = issue("prod CA");
    Issued theirs = issue("other CA");
    assertThatThrownBy(() -> ClusterIdentity.load(ours.caPem(), theirs.certPem(), theirs.keyPem(), dir, List.of()))
        .isInstanceOf(ConfigException.class).hasMessageStartingWith("CLUSTER_TLS_CERT: does not chain to CLUSTER_TLS_CA");
    assertThatThrownBy(() -> ClusterIdentity.load(ours.caPem(), ours.certPem(), theirs.keyPem(), dir, List.of()))
        .isInstanceOf(ConfigException.class).hasMessageStartingWith("CLUSTER_TLS_KEY: is not the key of CLUSTER_TLS_CERT");
    assertThatThrownBy(() -> ClusterIdentity.load(ours.caPem(), ours.certPem(), "/no/such/key.pem", dir, List.of()))
        .isInstanceOf(ConfigException.class).hasMessageStartingWith("CLUSTER_TLS_KEY: cannot read the PEM file");
    // the foreign node cannot pass as ours either
    ClusterIdentity identity = ClusterIdentity.load(ours.caPem(), ours.certPem(), ours.keyPem(), dir, List.of());
    ClusterIdentity foreign = ClusterIdentity.load(theirs.caPem(), theirs.certPem(), theirs.keyPem(), dir, List.of());
    assertThatThrownBy(() -> identity.verifyPeer(foreign.chain())).isInstanceOf(java.security.GeneralSecurityException.class);
  }

  @Test
  void allThreeOrNone() {
    Map<String, String> shared = Map.of("CLUSTER", "true", "MINGUS_JWT_SECRET", "0123456789abcdef0123456789abcdef",
        "TOKEN_ENCRYPTION_KEYS", "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    Map<String, String> env = new java.util.HashMap<>(shared);
    env.put("CLUSTER_TLS_CA", "/etc/mingus/ca.pem");
    env.put("CLUSTER_TLS_CERT", "/etc/mingus/node.pem");
    assertThatThrownBy(() -> Settings.fromOverrides(env)).isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("CLUSTER_TLS_KEY: is required");
    env.put("CLUSTER_TLS_KEY", "/etc/mingus/node-key.pem");
    env.put("CLUSTER_TLS_DIR", "/var/lib/mingus/tls");
    var cluster = Settings.fromOverrides(env).clustering();
    assertThat(cluster.tlsKey()).isEqualTo("/etc/mingus/node-key.pem");
    assertThat(cluster.tlsDir()).isEqualTo("/var/lib/mingus/tls");
    assertThat(cluster.toString()).doesNotContain("node-key");
  }

  @Test
  void theDevDefaultMakesOneCaThatEveryNodeSharingTheDirectoryTrusts() throws Exception {
    Path tls = dir.resolve("cluster-tls");
    ClusterIdentity first = ClusterIdentity.devDefault(tls, List.of("127.0.0.1"));
    ClusterIdentity second = ClusterIdentity.devDefault(tls, List.of("127.0.0.1"));
    first.verifyPeer(second.chain());
    second.verifyPeer(first.chain());
    assertThat(first.chain().get(0)).isNotEqualTo(second.chain().get(0));
    assertThat(Files.getPosixFilePermissions(tls.resolve(ClusterIdentity.CA_KEY_FILE)))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    ClusterIdentity elsewhere = ClusterIdentity.devDefault(dir.resolve("other"), List.of("127.0.0.1"));
    assertThatThrownBy(() -> first.verifyPeer(elsewhere.chain())).isInstanceOf(java.security.GeneralSecurityException.class);
  }
}
