package com.mingus.reliability.cluster;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The little X.509 the cluster needs, with the JDK alone: EC P-256 keys, a self-signed CA certificate and
 * node certificates it signs (DER written by hand: the JDK parses and verifies certificates but has no
 * public API to make one), and PEM in and out. Only the dev default makes certificates; a production
 * cluster brings its own.
 */
public final class Certificates {
  private Certificates() {}

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final byte[] ECDSA_SHA256 = oid("1.2.840.10045.4.3.2");
  private static final Pattern PEM_KEY = Pattern.compile(
      "-----BEGIN ([A-Z ]*PRIVATE KEY)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");

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
    byte[] extensions = seq(
        extension("2.5.29.19", true, seq(bool(true))),
        extension("2.5.29.15", true, bitString(new byte[] {(byte) 0x86}, 1)));
    return sign(commonName, commonName, keys.getPublic(), keys.getPrivate(), days, extensions);
  }

  /**
   * A node certificate signed by the CA, good for TLS server and client authentication, naming
   * {@code hosts} (names or IP addresses) as subject alternative names.
   */
  public static X509Certificate nodeCertificate(String commonName, PublicKey nodeKey, X509Certificate ca,
      PrivateKey caKey, List<String> hosts, int days) {
    ByteArrayOutputStream names = new ByteArrayOutputStream();
    for (String host : hosts) {
      byte[] ip = literalAddress(host);
      names.writeBytes(ip != null ? tlv(0x87, ip) : tlv(0x82, host.getBytes(StandardCharsets.US_ASCII)));
    }
    List<byte[]> list = new ArrayList<>();
    list.add(extension("2.5.29.19", true, seq()));
    list.add(extension("2.5.29.15", true, bitString(new byte[] {(byte) 0x80}, 7)));
    list.add(extension("2.5.29.37", false, seq(oid("1.3.6.1.5.5.7.3.1"), oid("1.3.6.1.5.5.7.3.2"))));
    if (names.size() > 0) {
      list.add(extension("2.5.29.17", false, tlv(0x30, names.toByteArray())));
    }
    String issuer = ca.getSubjectX500Principal().getName();
    String issuerCn = issuer.startsWith("CN=") ? issuer.substring(3) : issuer;
    return sign(commonName, issuerCn, nodeKey, caKey, days, seq(list.toArray(new byte[0][])));
  }

  public static String toPem(X509Certificate... certificates) {
    StringBuilder out = new StringBuilder();
    try {
      for (X509Certificate certificate : certificates) {
        out.append(pem("CERTIFICATE", certificate.getEncoded()));
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
    return out.toString();
  }

  /** PKCS#8, the form Vert.x and the JDK both read. */
  public static String toPem(PrivateKey key) {
    return pem("PRIVATE KEY", key.getEncoded());
  }

  public static List<X509Certificate> parseCertificates(String pem) throws GeneralSecurityException {
    Collection<? extends java.security.cert.Certificate> all = CertificateFactory.getInstance("X.509")
        .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    List<X509Certificate> out = new ArrayList<>();
    for (java.security.cert.Certificate certificate : all) {
      out.add((X509Certificate) certificate);
    }
    return out;
  }

  public static X509Certificate parseDer(byte[] der) throws GeneralSecurityException {
    return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
  }

  /** A PKCS#8 ({@code BEGIN PRIVATE KEY}) EC or RSA key; an encrypted or PKCS#1/SEC1 key is refused with how to convert it. */
  public static PrivateKey parsePrivateKey(String pem) throws GeneralSecurityException {
    Matcher matcher = PEM_KEY.matcher(pem);
    if (!matcher.find()) {
      throw new GeneralSecurityException("no -----BEGIN PRIVATE KEY----- block");
    }
    if (!matcher.group(1).equals("PRIVATE KEY")) {
      throw new GeneralSecurityException("a " + matcher.group(1) + " is not PKCS#8; convert it with "
          + "'openssl pkcs8 -topk8 -nocrypt -in key.pem -out node-key.pem'");
    }
    byte[] der = Base64.getMimeDecoder().decode(matcher.group(2).trim());
    for (String algorithm : List.of("EC", "RSA")) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (GeneralSecurityException e) {
        // try the next algorithm
      }
    }
    throw new GeneralSecurityException("the private key is neither EC nor RSA");
  }

  /** The signature algorithm for a key: ECDSA or RSA, with SHA-256. */
  public static String signatureAlgorithm(java.security.Key key) {
    return switch (key.getAlgorithm()) {
      case "EC" -> "SHA256withECDSA";
      case "RSA" -> "SHA256withRSA";
      default -> throw new IllegalArgumentException("unsupported key algorithm " + key.getAlgorithm());
    };
  }

  private static X509Certificate sign(String subjectCn, String issuerCn, PublicKey subjectKey, PrivateKey issuerKey,
      int days, byte[] extensions) {
    ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC).withNano(0);
    byte[] serial = new byte[16];
    RANDOM.nextBytes(serial);
    byte[] algorithm = seq(ECDSA_SHA256);
    byte[] tbs = seq(
        tlv(0xA0, integer(BigInteger.TWO)),
        integer(new BigInteger(1, serial)),
        algorithm,
        name(issuerCn),
        seq(time(now.minusMinutes(5)), time(now.plusDays(days))),
        name(subjectCn),
        subjectKey.getEncoded(),
        tlv(0xA3, extensions));
    try {
      Signature signer = Signature.getInstance("SHA256withECDSA");
      signer.initSign(issuerKey);
      signer.update(tbs);
      byte[] certificate = seq(tbs, algorithm, bitString(signer.sign(), 0));
      return parseDer(certificate);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("could not sign a certificate", e);
    }
  }

  private static byte[] literalAddress(String host) {
    boolean literal = host.matches("[0-9.]+") || host.contains(":");
    if (!literal) {
      return null;
    }
    try {
      return InetAddress.getByName(host).getAddress();
    } catch (UnknownHostException e) {
      return null;
    }
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }

  // DER, the few types a certificate needs

  private static byte[] name(String commonName) {
    return seq(tlv(0x31, seq(oid("2.5.4.3"), tlv(0x0C, commonName.getBytes(StandardCharsets.UTF_8)))));
  }

  private static byte[] extension(String id, boolean critical, byte[] value) {
    return critical ? seq(oid(id), bool(true), tlv(0x04, value)) : seq(oid(id), tlv(0x04, value));
  }

  private static byte[] time(ZonedDateTime time) {
    if (time.getYear() < 2050) {
      return tlv(0x17, time.format(DateTimeFormatter.ofPattern("yyMMddHHmmss'Z'")).getBytes(StandardCharsets.US_ASCII));
    }
    return tlv(0x18, time.format(DateTimeFormatter.ofPattern("yyyyMMddHHmmss'Z'")).getBytes(StandardCharsets.US_ASCII));
  }

  private static byte[] bool(boolean value) {
    return tlv(0x01, new byte[] {(byte) (value ? 0xFF : 0)});
  }

  private static byte[] integer(BigInteger value) {
    return tlv(0x02, value.toByteArray());
  }

  private static byte[] bitString(byte[] bits, int unused) {
    byte[] body = new byte[bits.length + 1];
    body[0] = (byte) unused;
    System.arraycopy(bits, 0, body, 1, bits.length);
    return tlv(0x03, body);
  }

  private static byte[] oid(String dotted) {
    String[] parts = dotted.split("\\.");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(Integer.parseInt(parts[0]) * 40 + Integer.parseInt(parts[1]));
    for (int i = 2; i < parts.length; i++) {
      long value = Long.parseLong(parts[i]);
      int groups = 1;
      while ((value >>> (7 * groups)) != 0) {
        groups++;
      }
      for (int g = groups - 1; g >= 0; g--) {
        int b = (int) ((value >>> (7 * g)) & 0x7F);
        out.write(g == 0 ? b : b | 0x80);
      }
    }
    return tlv(0x06, out.toByteArray());
  }

  private static byte[] seq(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return tlv(0x30, out.toByteArray());
  }

  private static byte[] tlv(int tag, byte[] value) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(tag);
    int length = value.length;
    if (length < 0x80) {
      out.write(length);
    } else {
      int bytes = length > 0xFFFFFF ? 4 : length > 0xFFFF ? 3 : length > 0xFF ? 2 : 1;
      out.write(0x80 | bytes);
      for (int i = bytes - 1; i >= 0; i--) {
        out.write((length >>> (8 * i)) & 0xFF);
      }
    }
    out.writeBytes(value);
    return out.toByteArray();
  }
}
