package com.mingus.reliability.cluster;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.IPAddress;
import org.bouncycastle.util.io.pem.PemObject;

/**
 * The little X.509 the cluster needs: EC P-256 keys, a self-signed CA certificate and node certificates it
 * signs, and PEM in and out. BouncyCastle builds, encodes and reads them (the JDK parses and verifies
 * certificates but has no public API to make one); the keys, signatures and certificate objects are the
 * JDK's own: BouncyCastle is never registered as a JCA provider. Only the dev default makes certificates;
 * a production cluster brings its own.
 */
public final class Certificates {
  private Certificates() {}

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final JcaX509CertificateConverter CONVERTER = new JcaX509CertificateConverter();

  public static KeyPair newKeyPair() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("no EC P-256 in this JDK", e);
    }
  }

  /** A self-signed CA certificate (basic constraints CA, key usage keyCertSign). */
  public static X509Certificate selfSignedCa(String commonName, KeyPair keys, int days) {
    X500Name name = commonName(commonName);
    try {
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, serial(), notBefore(), notAfter(days),
          name, keys.getPublic())
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
          .addExtension(Extension.keyUsage, true,
              new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyCertSign | KeyUsage.cRLSign));
      return sign(builder, keys.getPrivate());
    } catch (IOException e) {
      throw new IllegalStateException("could not encode a certificate extension", e);
    }
  }

  /**
   * A node certificate signed by the CA, good for TLS server and client authentication, naming
   * {@code hosts} (names or IP addresses) as subject alternative names.
   */
  public static X509Certificate nodeCertificate(String commonName, PublicKey nodeKey, X509Certificate ca,
      PrivateKey caKey, List<String> hosts, int days) {
    GeneralName[] names = hosts.stream()
        .map(host -> new GeneralName(IPAddress.isValid(host) ? GeneralName.iPAddress : GeneralName.dNSName, host))
        .toArray(GeneralName[]::new);
    try {
      // the issuer is the CA certificate's subject, byte for byte
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(ca, serial(), notBefore(), notAfter(days),
          commonName(commonName), nodeKey)
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
          .addExtension(Extension.extendedKeyUsage, false,
              new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
      if (names.length > 0) {
        builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
      }
      return sign(builder, caKey);
    } catch (IOException e) {
      throw new IllegalStateException("could not encode a certificate extension", e);
    }
  }

  public static String toPem(X509Certificate... certificates) {
    return pem(certificates);
  }

  /** PKCS#8, the form Vert.x and the JDK both read. */
  public static String toPem(PrivateKey key) {
    try {
      // a PrivateKey alone would be written in its algorithm's legacy form (EC PRIVATE KEY, RSA PRIVATE KEY)
      return pem(new JcaPKCS8Generator(key, null));
    } catch (IOException e) {
      throw new IllegalStateException("could not encode a private key", e);
    }
  }

  /** Every certificate in {@code pem} (text around the blocks is ignored; a block of any other kind is refused). */
  public static List<X509Certificate> parseCertificates(String pem) throws GeneralSecurityException {
    List<X509Certificate> out = new ArrayList<>();
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      for (Object block = parser.readObject(); block != null; block = parser.readObject()) {
        if (!(block instanceof X509CertificateHolder certificate)) {
          throw new CertificateException("a PEM block that is not a certificate ("
              + block.getClass().getSimpleName() + ")");
        }
        out.add(CONVERTER.getCertificate(certificate));
      }
    } catch (IOException | RuntimeException e) {
      throw new CertificateException(e.getMessage(), e);
    }
    return out;
  }

  public static X509Certificate parseDer(byte[] der) throws GeneralSecurityException {
    return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
  }

  /** A PKCS#8 ({@code BEGIN PRIVATE KEY}) EC or RSA key; an encrypted or PKCS#1/SEC1 key is refused with how to convert it. */
  public static PrivateKey parsePrivateKey(String pem) throws GeneralSecurityException {
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      // block by block, by type: the first private key decides; certificates and EC parameters around it are skipped
      for (PemObject block = parser.readPemObject(); block != null; block = parser.readPemObject()) {
        String type = block.getType();
        if (type.equals("PRIVATE KEY")) {
          return ecOrRsa(block.getContent());
        }
        if (type.endsWith("PRIVATE KEY")) {
          throw new GeneralSecurityException("a " + type + " is not PKCS#8; convert it with "
              + "'openssl pkcs8 -topk8 -nocrypt -in key.pem -out node-key.pem'");
        }
      }
    } catch (IOException | RuntimeException e) {
      throw new GeneralSecurityException("the private key's PEM is not readable: " + e.getMessage(), e);
    }
    throw new GeneralSecurityException("no -----BEGIN PRIVATE KEY----- block");
  }

  /** The signature algorithm for a key: ECDSA or RSA, with SHA-256. */
  public static String signatureAlgorithm(java.security.Key key) {
    return switch (key.getAlgorithm()) {
      case "EC" -> "SHA256withECDSA";
      case "RSA" -> "SHA256withRSA";
      default -> throw new IllegalArgumentException("unsupported key algorithm " + key.getAlgorithm());
    };
  }

  private static PrivateKey ecOrRsa(byte[] pkcs8) throws GeneralSecurityException {
    PrivateKeyInfo info;
    try {
      info = PrivateKeyInfo.getInstance(pkcs8);
    } catch (RuntimeException e) {
      throw new GeneralSecurityException("the PRIVATE KEY block is not a readable PKCS#8 key: " + e.getMessage(), e);
    }
    PrivateKey key;
    try {
      key = new JcaPEMKeyConverter().getPrivateKey(info);
    } catch (IOException e) {
      throw new GeneralSecurityException("the private key is neither EC nor RSA", e);
    }
    if (!key.getAlgorithm().equals("EC") && !key.getAlgorithm().equals("RSA")) {
      throw new GeneralSecurityException("the private key is neither EC nor RSA");
    }
    return key;
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey issuerKey) {
    try {
      return CONVERTER.getCertificate(builder.build(new JcaContentSignerBuilder(signatureAlgorithm(issuerKey))
          .setSecureRandom(RANDOM).build(issuerKey)));
    } catch (OperatorCreationException | CertificateException e) {
      throw new IllegalStateException("could not sign a certificate", e);
    }
  }

  private static X500Name commonName(String commonName) {
    return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, commonName).build();
  }

  /** 128 random bits: unique without a register of issued serials. */
  private static BigInteger serial() {
    return new BigInteger(128, RANDOM);
  }

  /** Five minutes back, for clocks a little behind. */
  private static Date notBefore() {
    return Date.from(Instant.now().truncatedTo(ChronoUnit.SECONDS).minus(Duration.ofMinutes(5)));
  }

  private static Date notAfter(int days) {
    return Date.from(Instant.now().truncatedTo(ChronoUnit.SECONDS).plus(Duration.ofDays(days)));
  }

  private static String pem(Object... objects) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      for (Object object : objects) {
        writer.writeObject(object);
      }
    } catch (IOException e) {
      throw new IllegalStateException("could not write PEM", e);
    }
    return out.toString();
  }
}
