package com.mingus.reliability.cluster;

import com.mingus.reliability.config.ConfigException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * What a node proves it belongs to the cluster with: the cluster CA's certificate(s) it trusts, its own
 * certificate chain and private key. The same identity guards both transports: the clustered event bus
 * runs mutual TLS with it, and every Hazelcast connection opens with a {@link MemberHandshake} signed with
 * it. A peer counts as a member only when its certificate chains to one of the trusted CA certificates.
 *
 * <p>Production gives all three (CLUSTER_TLS_CA, CLUSTER_TLS_CERT, CLUSTER_TLS_KEY: a PEM file's path, or the
 * PEM itself). With none given, the dev default: a cluster CA generated once into CLUSTER_TLS_DIR (default
 * {@code DATA_DIR/cluster-tls}), and a node certificate this process issues itself from it at every start,
 * its key kept in memory only. Nodes sharing that directory form one cluster; anything else is refused.
 */
public final class ClusterIdentity {
  static final String CA_FILE = "ca.pem";
  static final String CA_KEY_FILE = "ca-key.pem";
  private static final Object DEV_LOCK = new Object();

  private final List<X509Certificate> trusted;
  private final Set<TrustAnchor> anchors;
  private final X509Certificate[] chain;
  private final PrivateKey key;
  private final String source;

  private ClusterIdentity(List<X509Certificate> trusted, X509Certificate[] chain, PrivateKey key, String source) {
    this.trusted = List.copyOf(trusted);
    this.anchors = new LinkedHashSet<>();
    for (X509Certificate ca : trusted) {
      anchors.add(new TrustAnchor(ca, null));
    }
    this.chain = chain.clone();
    this.key = key;
    this.source = source;
  }

  /**
   * The configured identity, or the dev default in {@code devDir} when none of the three is configured.
   * {@code hosts} name this node in a certificate it issues itself.
   */
  public static ClusterIdentity load(String ca, String cert, String key, Path devDir, List<String> hosts) {
    boolean anyGiven = given(ca) || given(cert) || given(key);
    if (!anyGiven) {
      return devDefault(devDir, hosts);
    }
    if (!given(ca)) {
      throw new ConfigException("CLUSTER_TLS_CA", "is required with CLUSTER_TLS_CERT and CLUSTER_TLS_KEY");
    }
    if (!given(cert)) {
      throw new ConfigException("CLUSTER_TLS_CERT", "is required with CLUSTER_TLS_CA and CLUSTER_TLS_KEY");
    }
    if (!given(key)) {
      throw new ConfigException("CLUSTER_TLS_KEY", "is required with CLUSTER_TLS_CA and CLUSTER_TLS_CERT");
    }
    List<X509Certificate> trusted = certificates(pemOf(ca, "CLUSTER_TLS_CA"), "CLUSTER_TLS_CA");
    List<X509Certificate> chain = certificates(pemOf(cert, "CLUSTER_TLS_CERT"), "CLUSTER_TLS_CERT");
    PrivateKey privateKey;
    try {
      privateKey = Certificates.parsePrivateKey(pemOf(key, "CLUSTER_TLS_KEY"));
    } catch (GeneralSecurityException e) {
      throw new ConfigException("CLUSTER_TLS_KEY", e.getMessage());
    }
    ClusterIdentity identity = new ClusterIdentity(trusted, chain.toArray(new X509Certificate[0]), privateKey,
        "CLUSTER_TLS_CERT (" + subject(chain.get(0)) + ")");
    identity.checkOwnChain("CLUSTER_TLS_CERT");
    return identity;
  }

  /** The dev default: the CA in {@code dir} (made on first use, by one process at a time), a fresh node certificate. */
  public static ClusterIdentity devDefault(Path dir, List<String> hosts) {
    X509Certificate ca;
    PrivateKey caKey;
    synchronized (DEV_LOCK) {
      try {
        Files.createDirectories(dir);
        try (FileChannel lockFile = FileChannel.open(dir.resolve(".lock"), StandardOpenOption.CREATE,
            StandardOpenOption.WRITE); FileLock ignored = lockFile.lock()) {
          Path caFile = dir.resolve(CA_FILE);
          Path caKeyFile = dir.resolve(CA_KEY_FILE);
          if (!Files.exists(caFile) || !Files.exists(caKeyFile)) {
            KeyPair keys = Certificates.newKeyPair();
            X509Certificate made = Certificates.selfSignedCa("MINGUS Reliability dev cluster CA "
                + UUID.randomUUID().toString().substring(0, 8), keys, 3650);
            writePrivate(caKeyFile, Certificates.toPem(keys.getPrivate()));
            Files.writeString(caFile, Certificates.toPem(made), StandardCharsets.US_ASCII);
          }
          ca = certificates(Files.readString(caFile, StandardCharsets.US_ASCII), "CLUSTER_TLS_DIR (" + caFile + ")").get(0);
          caKey = Certificates.parsePrivateKey(Files.readString(caKeyFile, StandardCharsets.US_ASCII));
        }
      } catch (IOException | GeneralSecurityException e) {
        throw new ConfigException("CLUSTER_TLS_DIR", "no CLUSTER_TLS_CA/CERT/KEY set and the dev cluster CA in " + dir
            + " cannot be used: " + e.getMessage());
      }
    }
    KeyPair node = Certificates.newKeyPair();
    Set<String> names = new LinkedHashSet<>(hosts);
    names.add("localhost");
    names.add("127.0.0.1");
    X509Certificate cert = Certificates.nodeCertificate("mingus-node-" + UUID.randomUUID().toString().substring(0, 8),
        node.getPublic(), ca, caKey, new ArrayList<>(names), 825);
    return new ClusterIdentity(List.of(ca), new X509Certificate[] {cert, ca}, node.getPrivate(),
        "dev cluster CA in " + dir.toAbsolutePath() + " (" + subject(ca) + ")");
  }

  /** Turns on mutual TLS on the clustered event bus: this node's certificate, the cluster CA, client certificates required. */
  public EventBusOptions secure(EventBusOptions options) {
    return options.setSsl(true)
        .setClientAuth(ClientAuth.REQUIRED)
        .setKeyCertOptions(new PemKeyCertOptions()
            .addKeyValue(Buffer.buffer(Certificates.toPem(key)))
            .addCertValue(Buffer.buffer(Certificates.toPem(chain))))
        .setTrustOptions(new PemTrustOptions().addCertValue(Buffer.buffer(Certificates.toPem(
            trusted.toArray(new X509Certificate[0])))));
  }

  /** Throws unless {@code peer} (leaf first) chains to a trusted CA certificate and is valid now. */
  public void verifyPeer(List<X509Certificate> peer) throws GeneralSecurityException {
    List<X509Certificate> path = new ArrayList<>();
    for (X509Certificate certificate : peer) {
      if (!trusted.contains(certificate)) {
        path.add(certificate);
      }
    }
    if (path.isEmpty()) {
      throw new GeneralSecurityException("no node certificate presented");
    }
    CertPath certPath = CertificateFactory.getInstance("X.509").generateCertPath(path);
    PKIXParameters parameters = new PKIXParameters(anchors);
    parameters.setRevocationEnabled(false);
    CertPathValidator.getInstance("PKIX").validate(certPath, parameters);
  }

  public byte[] sign(byte[] data) throws GeneralSecurityException {
    Signature signer = Signature.getInstance(Certificates.signatureAlgorithm(key));
    signer.initSign(key);
    signer.update(data);
    return signer.sign();
  }

  static boolean verifySignature(X509Certificate signer, byte[] data, byte[] signature) throws GeneralSecurityException {
    Signature verifier = Signature.getInstance(Certificates.signatureAlgorithm(signer.getPublicKey()));
    verifier.initVerify(signer.getPublicKey());
    verifier.update(data);
    return verifier.verify(signature);
  }

  public List<X509Certificate> chain() {
    return List.of(chain);
  }

  /** Where the identity came from and this node's certificate fingerprint; never key material. */
  public String describe() {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(chain[0].getEncoded());
      return source + ", node certificate sha256 " + HexFormat.of().formatHex(digest, 0, 8);
    } catch (GeneralSecurityException e) {
      return source;
    }
  }

  private void checkOwnChain(String setting) {
    try {
      verifyPeer(List.of(chain));
    } catch (GeneralSecurityException e) {
      throw new ConfigException(setting, "does not chain to CLUSTER_TLS_CA: " + e.getMessage());
    }
    try {
      byte[] probe = "mingus-cluster-key-check".getBytes(StandardCharsets.US_ASCII);
      if (!verifySignature(chain[0], probe, sign(probe))) {
        throw new ConfigException("CLUSTER_TLS_KEY", "is not the key of CLUSTER_TLS_CERT");
      }
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new ConfigException("CLUSTER_TLS_KEY", "is not the key of CLUSTER_TLS_CERT: " + e.getMessage());
    }
  }

  private static String subject(X509Certificate certificate) {
    return certificate.getSubjectX500Principal().getName();
  }

  private static boolean given(String value) {
    return value != null && !value.isBlank();
  }

  /** A setting is the PEM itself (it starts with -----BEGIN) or the path of a PEM file. */
  private static String pemOf(String value, String setting) {
    String trimmed = value.trim();
    if (trimmed.startsWith("-----BEGIN")) {
      return trimmed;
    }
    try {
      return Files.readString(Path.of(trimmed), StandardCharsets.US_ASCII);
    } catch (IOException | RuntimeException e) {
      throw new ConfigException(setting, "cannot read the PEM file " + trimmed + ": " + e.getMessage());
    }
  }

  private static List<X509Certificate> certificates(String pem, String setting) {
    try {
      List<X509Certificate> list = Certificates.parseCertificates(pem);
      if (list.isEmpty()) {
        throw new ConfigException(setting, "holds no certificate");
      }
      return list;
    } catch (GeneralSecurityException e) {
      throw new ConfigException(setting, "holds no readable PEM certificate: " + e.getMessage());
    }
  }

  private static void writePrivate(Path file, String pem) throws IOException {
    Files.deleteIfExists(file);
    Files.createFile(file);
    try {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException ignored) {
      // not a POSIX file system; the directory's permissions apply
    }
    Files.writeString(file, pem, StandardCharsets.US_ASCII);
  }
}
