package com.mingus.reliability.cluster;

import com.hazelcast.nio.MemberSocketInterceptor;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A mutual challenge-response that opens every Hazelcast connection, before Hazelcast reads or writes a
 * byte of its own protocol: each side sends a fresh nonce, and each proves it holds the private key of a
 * certificate that chains to the cluster CA by signing both nonces, its role and the cluster name. A side
 * that cannot (no certificate, another CA's, a replayed signature, a plain Hazelcast member or client, a
 * port scanner) has the socket closed: it never joins, reads no map and sends no operation.
 *
 * <p>Hazelcast calls it (through {@link SecureHazelcast}'s node extension) on a blocking socket: {@link #onAccept}
 * on a thread of its own executor, {@link #onConnect} on the connecting thread. Every read is bounded by
 * {@link #TIMEOUT_MS} and every length by a small cap, so a silent or hostile peer costs one thread for
 * a few seconds at most. What it does not do: encrypt what follows; see docs/cluster.md, "Security".
 */
final class MemberHandshake implements MemberSocketInterceptor {
  private static final Logger log = LoggerFactory.getLogger(MemberHandshake.class);
  static final int TIMEOUT_MS = 5_000;
  // three bytes, like Hazelcast's own protocol headers ("HZC", "CP2"): a stock member or client is told apart at once
  private static final byte[] MAGIC = "MGC".getBytes(StandardCharsets.US_ASCII);
  private static final byte VERSION = 1;
  private static final int NONCE = 32;
  private static final int MAX_CERTS = 8;
  private static final int MAX_CERT_BYTES = 16_384;
  private static final int MAX_SIGNATURE_BYTES = 2_048;
  private static final byte ACCEPTED = 0x01;
  private static final long LOG_EVERY_MS = 60_000;

  private final ClusterIdentity identity;
  private final String clusterName;
  private final SecureRandom random = new SecureRandom();
  private final Map<String, Long> lastLogged = new ConcurrentHashMap<>();

  MemberHandshake(ClusterIdentity identity, String clusterName) {
    this.identity = identity;
    this.clusterName = clusterName;
  }

  @Override
  public void init(Properties properties) {
    // configured in code
  }

  /** This node opened the connection: it speaks first and checks the acceptor before proving itself. */
  @Override
  public void onConnect(Socket socket) throws IOException {
    run(socket, false);
  }

  /** This node accepted the connection: it proves itself to the connector, then checks the connector. */
  @Override
  public void onAccept(Socket socket) throws IOException {
    run(socket, true);
  }

  private void run(Socket socket, boolean acceptor) throws IOException {
    int before = socket.getSoTimeout();
    socket.setSoTimeout(TIMEOUT_MS);
    try {
      // no buffering: not one byte past the handshake may be taken from Hazelcast
      DataInputStream in = new DataInputStream(socket.getInputStream());
      OutputStream out = socket.getOutputStream();
      if (acceptor) {
        accept(in, out);
      } else {
        connect(in, out);
      }
    } catch (IOException e) {
      refused(socket, acceptor, e.getMessage());
      throw e;
    } catch (GeneralSecurityException | RuntimeException e) {
      refused(socket, acceptor, e.getMessage());
      throw new IOException("cluster handshake failed: " + e.getMessage(), e);
    } finally {
      if (!socket.isClosed()) {
        socket.setSoTimeout(before);
      }
    }
  }

  private void connect(DataInputStream in, OutputStream out) throws IOException, GeneralSecurityException {
    byte[] mine = nonce();
    write(out, concat(concat(MAGIC, new byte[] {VERSION}), mine));
    expectMagic(in);
    byte[] theirs = readFully(in, NONCE);
    verify(in, "acceptor", mine, theirs);
    write(out, proof("connector", mine, theirs));
    if (in.read() != ACCEPTED) {
      throw new IOException("the peer did not accept this node's certificate");
    }
  }

  private void accept(DataInputStream in, OutputStream out) throws IOException, GeneralSecurityException {
    expectMagic(in);
    byte[] theirs = readFully(in, NONCE);
    byte[] mine = nonce();
    write(out, concat(concat(concat(MAGIC, new byte[] {VERSION}), mine), proof("acceptor", theirs, mine)));
    verify(in, "connector", theirs, mine);
    write(out, new byte[] {ACCEPTED});
  }

  /** This node's chain and its signature over the transcript. */
  private byte[] proof(String role, byte[] connectorNonce, byte[] acceptorNonce) throws IOException, GeneralSecurityException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    List<X509Certificate> chain = identity.chain();
    out.writeByte(chain.size());
    for (X509Certificate certificate : chain) {
      byte[] der = certificate.getEncoded();
      out.writeShort(der.length);
      out.write(der);
    }
    byte[] signature = identity.sign(transcript(role, connectorNonce, acceptorNonce));
    out.writeShort(signature.length);
    out.write(signature);
    return bytes.toByteArray();
  }

  /** Reads the peer's chain and signature; throws unless the chain is the cluster's and the signature its key's. */
  private void verify(DataInputStream in, String role, byte[] connectorNonce, byte[] acceptorNonce)
      throws IOException, GeneralSecurityException {
    int count = in.readUnsignedByte();
    if (count < 1 || count > MAX_CERTS) {
      throw new IOException("the peer sent " + count + " certificates");
    }
    List<X509Certificate> chain = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int length = in.readUnsignedShort();
      if (length > MAX_CERT_BYTES) {
        throw new IOException("the peer sent a certificate of " + length + " bytes");
      }
      chain.add(Certificates.parseDer(readFully(in, length)));
    }
    int length = in.readUnsignedShort();
    if (length > MAX_SIGNATURE_BYTES) {
      throw new IOException("the peer sent a signature of " + length + " bytes");
    }
    byte[] signature = readFully(in, length);
    identity.verifyPeer(chain);
    if (!ClusterIdentity.verifySignature(chain.get(0), transcript(role, connectorNonce, acceptorNonce), signature)) {
      throw new GeneralSecurityException("the peer's signature does not verify with its certificate");
    }
  }

  private byte[] transcript(String role, byte[] connectorNonce, byte[] acceptorNonce) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    out.writeUTF("mingus-cluster-handshake-v1");
    out.writeUTF(role);
    out.writeUTF(clusterName);
    out.write(connectorNonce);
    out.write(acceptorNonce);
    return bytes.toByteArray();
  }

  private static void expectMagic(DataInputStream in) throws IOException {
    byte[] magic = readFully(in, MAGIC.length);
    if (!Arrays.equals(magic, MAGIC)) {
      throw new IOException("the peer does not speak the cluster handshake");
    }
    int version = in.readUnsignedByte();
    if (version != VERSION) {
      throw new IOException("the peer speaks version " + version + " of the cluster handshake, not " + VERSION);
    }
  }

  private static byte[] readFully(InputStream in, int length) throws IOException {
    byte[] bytes = new byte[length];
    new DataInputStream(in).readFully(bytes);
    return bytes;
  }

  private static void write(OutputStream out, byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  private byte[] nonce() {
    byte[] nonce = new byte[NONCE];
    random.nextBytes(nonce);
    return nonce;
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  /** One warning per remote host a minute: a refused peer retries every second. */
  private void refused(Socket socket, boolean acceptor, String reason) {
    String peer = String.valueOf(socket.getInetAddress());
    long now = System.currentTimeMillis();
    Long last = lastLogged.get(peer);
    if (last == null || now - last >= LOG_EVERY_MS) {
      lastLogged.put(peer, now);
      log.warn("Cluster handshake failed, connection {} {} closed: {}", acceptor ? "from" : "to",
          socket.getRemoteSocketAddress(), reason);
    }
  }
}
