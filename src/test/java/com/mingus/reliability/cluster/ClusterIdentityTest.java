package com.mingus.reliability.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mingus.reliability.config.ConfigException;
import com.mingus.reliability.config.Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
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
  void theCertificatesCarryTheirExtensionsAndKeysArePkcs8() throws Exception {
    KeyPair caKeys = Certificates.newKeyPair();
    X509Certificate ca = Certificates.selfSignedCa("prod CA, east", caKeys, 30);
    assertThat(ca.getSubjectX500Principal()).isEqualTo(ca.getIssuerX500Principal());
    assertThat(ca.getSubjectX500Principal().getName()).isEqualTo("CN=prod CA\\, east");
    assertThat(ca.getBasicConstraints()).as("a CA, no path length limit").isEqualTo(Integer.MAX_VALUE);
    assertThat(ca.getCriticalExtensionOIDs()).containsExactlyInAnyOrder("2.5.29.19", "2.5.29.15");
    // digitalSignature, keyCertSign, cRLSign
    assertThat(ca.getKeyUsage()).startsWith(true, false, false, false, false, true, true);
    ca.verify(caKeys.getPublic());

    KeyPair node = Certificates.newKeyPair();
    X509Certificate cert = Certificates.nodeCertificate("node1", node.getPublic(), ca, caKeys.getPrivate(),
        List.of("node1.internal", "10.0.0.5", "::1"), 30);
    cert.verify(caKeys.getPublic());
    assertThat(cert.getIssuerX500Principal()).isEqualTo(ca.getSubjectX500Principal());
    assertThat(cert.getSigAlgName()).isEqualTo("SHA256withECDSA");
    assertThat(cert.getBasicConstraints()).as("not a CA").isEqualTo(-1);
    assertThat(cert.getCriticalExtensionOIDs()).containsExactlyInAnyOrder("2.5.29.19", "2.5.29.15");
    assertThat(cert.getKeyUsage()).startsWith(true, false, false, false, false, false, false);
    assertThat(cert.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
    assertThat(cert.getSubjectAlternativeNames()).containsExactly(List.of(2, "node1.internal"), List.of(7, "10.0.0.5"),
        List.of(7, "0:0:0:0:0:0:0:1"));
    assertThat(cert.getNotAfter().getTime() - cert.getNotBefore().getTime())
        .isEqualTo(java.time.Duration.ofDays(30).plusMinutes(5).toMillis());

    String keyPem = Certificates.toPem(node.getPrivate());
    assertThat(keyPem).startsWith("-----BEGIN PRIVATE KEY-----\n").endsWith("-----END PRIVATE KEY-----\n");
    assertThat(Certificates.parsePrivateKey(keyPem)).isEqualTo(node.getPrivate());
    // one file holding the certificate and then the key: each reader takes its own part...
    String combined = Certificates.toPem(cert, ca) + keyPem;
    assertThat(Certificates.parsePrivateKey(combined)).isEqualTo(node.getPrivate());
    assertThat(Certificates.parseCertificates(Certificates.toPem(cert, ca))).containsExactly(cert, ca);
    // ...but a certificate setting holds certificates only
    assertThatThrownBy(() -> Certificates.parseCertificates(combined)).isInstanceOf(GeneralSecurityException.class)
        .hasMessageContaining("not a certificate");
    assertThat(Certificates.parseCertificates("not PEM at all")).isEmpty();

    // a SEC1 EC key (what 'openssl ecparam -genkey' writes) is refused with the command that converts it
    String body = keyPem.substring(keyPem.indexOf('\n') + 1, keyPem.indexOf("-----END"));
    assertThatThrownBy(() -> Certificates.parsePrivateKey("-----BEGIN EC PRIVATE KEY-----\n" + body
        + "-----END EC PRIVATE KEY-----\n")).isInstanceOf(GeneralSecurityException.class)
        .hasMessage("a EC PRIVATE KEY is not PKCS#8; convert it with 'openssl pkcs8 -topk8 -nocrypt -in key.pem -out node-key.pem'");
    assertThatThrownBy(() -> Certificates.parsePrivateKey(Certificates.toPem(cert)))
        .hasMessage("no -----BEGIN PRIVATE KEY----- block");
    assertThatThrownBy(() -> Certificates.parsePrivateKey("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
        .isInstanceOf(GeneralSecurityException.class).hasMessageContaining("not a readable PKCS#8 key");
    assertThatThrownBy(() -> Certificates.parsePrivateKey("-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n"))
        .isInstanceOf(GeneralSecurityException.class);
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
