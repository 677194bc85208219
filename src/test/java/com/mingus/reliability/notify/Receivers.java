package com.mingus.reliability.notify;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import javax.crypto.KeyAgreement;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The local stand-ins for the outside world the channels talk to: a Web Push service that decrypts what
 * it receives with the subscription's private key, a Twilio-compatible SMS API and a webhook receiver
 * that verifies the Standard Webhooks signature. Each records what it got and answers from a script.
 */
final class Receivers {
  private Receivers() {}

  record Received(String path, MultiMap headers, byte[] body, String plaintext, boolean verified) {}

  static HttpServer listen(Vertx vertx, io.vertx.core.Handler<io.vertx.core.http.HttpServerRequest> handler) {
    try {
      return vertx.createHttpServer().requestHandler(handler).listen(0, "127.0.0.1")
          .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Answers from the script first (status codes), then with the default. */
  static final class Script {
    final Queue<Integer> next = new ConcurrentLinkedQueue<>();
    volatile int otherwise;

    Script(int otherwise) {
      this.otherwise = otherwise;
    }

    int status() {
      Integer scripted = next.poll();
      return scripted == null ? otherwise : scripted;
    }
  }

  /** A browser's push subscription and the push service that decrypts what it receives for it. */
  static final class PushService {
    final KeyPair subscriber;
    final byte[] auth = new byte[16];
    final List<Received> received = new CopyOnWriteArrayList<>();
    final Script script = new Script(201);
    final HttpServer server;

    PushService(Vertx vertx) {
      try {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        subscriber = generator.generateKeyPair();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
      new SecureRandom().nextBytes(auth);
      server = listen(vertx, request -> request.body().onSuccess(body -> {
        String plaintext;
        try {
          plaintext = decrypt(body.getBytes());
        } catch (Exception e) {
          plaintext = "UNDECRYPTABLE: " + e;
        }
        received.add(new Received(request.path(), MultiMap.caseInsensitiveMultiMap().addAll(request.headers()),
            body.getBytes(), plaintext, !plaintext.startsWith("UNDECRYPTABLE")));
        int status = script.status();
        request.response().setStatusCode(status).putHeader("Location", "/messages/" + received.size()).end();
      }));
    }

    String endpoint(String id) {
      return "http://127.0.0.1:" + server.actualPort() + "/push/" + id;
    }

    String p256dh() {
      return b64url(point((ECPublicKey) subscriber.getPublic()));
    }

    String authText() {
      return b64url(auth);
    }

    /** RFC 8291 / RFC 8188 decryption as a user agent does it, with JDK crypto only. */
    String decrypt(byte[] message) throws Exception {
      ByteBuffer in = ByteBuffer.wrap(message);
      byte[] salt = new byte[16];
      in.get(salt);
      int recordSize = in.getInt();
      byte[] asPublic = new byte[in.get() & 0xFF];
      in.get(asPublic);
      byte[] ciphertext = new byte[in.remaining()];
      in.get(ciphertext);
      if (recordSize < 18 || ciphertext.length > recordSize) {
        throw new IllegalArgumentException("bad record size");
      }
      ECPublicKey ua = (ECPublicKey) subscriber.getPublic();
      ECPublicKey as = (ECPublicKey) KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(
          new ECPoint(new BigInteger(1, Arrays.copyOfRange(asPublic, 1, 33)),
              new BigInteger(1, Arrays.copyOfRange(asPublic, 33, 65))), ua.getParams()));
      KeyAgreement agreement = KeyAgreement.getInstance("ECDH");
      agreement.init(subscriber.getPrivate());
      agreement.doPhase(as, true);
      byte[] ecdh = agreement.generateSecret();
      byte[] prkKey = hmac(auth, ecdh);
      byte[] ikm = hmac(prkKey, join("WebPush: info\0".getBytes(StandardCharsets.US_ASCII), point(ua), asPublic, new byte[] {1}));
      byte[] prk = hmac(salt, ikm);
      byte[] cek = Arrays.copyOf(hmac(prk, join("Content-Encoding: aes128gcm\0".getBytes(StandardCharsets.US_ASCII), new byte[] {1})), 16);
      byte[] nonce = Arrays.copyOf(hmac(prk, join("Content-Encoding: nonce\0".getBytes(StandardCharsets.US_ASCII), new byte[] {1})), 12);
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.DECRYPT_MODE, new SecretKeySpec(cek, "AES"), new GCMParameterSpec(128, nonce));
      byte[] padded = cipher.doFinal(ciphertext);
      int end = padded.length - 1;
      while (end >= 0 && padded[end] == 0) {
        end--;
      }
      if (end < 0 || padded[end] != 2) {
        throw new IllegalArgumentException("no last-record delimiter");
      }
      return new String(padded, 0, end, StandardCharsets.UTF_8);
    }
  }

  /** A Twilio-compatible Messages API. */
  static final class SmsApi {
    final List<Received> received = new CopyOnWriteArrayList<>();
    final Script script = new Script(201);
    final HttpServer server;

    SmsApi(Vertx vertx, String sid, String token) {
      String expected = "Basic " + Base64.getEncoder().encodeToString((sid + ":" + token).getBytes(StandardCharsets.UTF_8));
      server = listen(vertx, request -> request.body().onSuccess(body -> {
        boolean authorised = expected.equals(request.getHeader("Authorization"))
            && request.path().equals("/2010-04-01/Accounts/" + sid + "/Messages.json");
        received.add(new Received(request.path(), MultiMap.caseInsensitiveMultiMap().addAll(request.headers()),
            body.getBytes(), body.toString(), authorised));
        int status = authorised ? script.status() : 401;
        JsonObject answer = status == 201 ? new JsonObject().put("sid", "SM" + received.size()).put("status", "queued")
            : new JsonObject().put("code", 20003).put("message", "error " + status);
        request.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(answer.encode());
      }));
    }

    String baseUrl() {
      return "http://127.0.0.1:" + server.actualPort();
    }
  }

  /** A webhook endpoint that checks each delivery with the Standard Webhooks algorithm and its own secret. */
  static final class WebhookEndpoint {
    final List<Received> received = new CopyOnWriteArrayList<>();
    final Script script = new Script(200);
    volatile String secret;
    final HttpServer server;

    WebhookEndpoint(Vertx vertx) {
      server = listen(vertx, request -> request.body().onSuccess(body -> {
        received.add(new Received(request.path(), MultiMap.caseInsensitiveMultiMap().addAll(request.headers()),
            body.getBytes(), body.toString(), verify(request.headers(), body.toString())));
        request.response().setStatusCode(script.status()).end();
      }));
    }

    String url(String path) {
      return "http://127.0.0.1:" + server.actualPort() + path;
    }

    /** The specification's reference verification: HMAC-SHA256 over "id.timestamp.body" with the decoded secret. */
    boolean verify(MultiMap headers, String body) {
      try {
        String id = headers.get("webhook-id");
        String timestamp = headers.get("webhook-timestamp");
        if (id == null || timestamp == null || secret == null) {
          return false;
        }
        if (Math.abs(System.currentTimeMillis() / 1000 - Long.parseLong(timestamp)) > 300) {
          return false;
        }
        byte[] key = Base64.getDecoder().decode(secret.substring("whsec_".length()));
        String expected = Base64.getEncoder().encodeToString(
            hmac(key, (id + "." + timestamp + "." + body).getBytes(StandardCharsets.UTF_8)));
        for (String signature : headers.get("webhook-signature").split(" ")) {
          String[] parts = signature.split(",", 2);
          if (parts.length == 2 && parts[0].equals("v1") && java.security.MessageDigest.isEqual(
              parts[1].getBytes(StandardCharsets.US_ASCII), expected.getBytes(StandardCharsets.US_ASCII))) {
            return true;
          }
        }
        return false;
      } catch (RuntimeException e) {
        return false;
      }
    }
  }

  static byte[] hmac(byte[] key, byte[] data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(data);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] point(ECPublicKey key) {
    return join(new byte[] {4}, fixed(key.getW().getAffineX()), fixed(key.getW().getAffineY()));
  }

  private static byte[] fixed(BigInteger value) {
    byte[] raw = value.toByteArray();
    byte[] out = new byte[32];
    int copy = Math.min(raw.length, 32);
    System.arraycopy(raw, raw.length - copy, out, 32 - copy, copy);
    return out;
  }

  static byte[] join(byte[]... parts) {
    ByteBuffer out = ByteBuffer.allocate(Arrays.stream(parts).mapToInt(p -> p.length).sum());
    for (byte[] part : parts) {
      out.put(part);
    }
    return out.array();
  }

  static String b64url(byte[] bytes) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }
}
