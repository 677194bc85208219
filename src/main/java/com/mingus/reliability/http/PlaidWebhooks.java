package com.mingus.reliability.http;

import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.chaos.CrashPoints;
import com.mingus.reliability.plaid.PlaidClient;
import com.mingus.reliability.plaid.WebhookVerificationKey;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.ext.web.RoutingContext;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Plaid's webhooks at {@code POST /api/plaid/webhook}. Each is verified as Plaid prescribes: the
 * {@code Plaid-Verification} header is an ES256 JWT (no other algorithm), signed by the key its
 * {@code kid} names (fetched through the Plaid client and cached), issued at most five minutes ago, whose
 * {@code request_body_sha256} equals the SHA-256 of the exact body bytes (compared in constant time).
 * A verified webhook is handed to sync over the bus and answered 200 once sync has recorded it in
 * PostgreSQL (503 when that could not be done in time, so Plaid sends it again); an ITEM webhook whose
 * body is the Item's last one taken (a resend of it, within the duplicate window, after it was recorded) is
 * answered 200 and not handed on again, while the same body after another one (a second LOGIN_REPAIRED after
 * a second ERROR) is new news and taken; while a TRANSACTIONS webhook is handed on each time Plaid signs it (its body repeats for every
 * change) but not when the very same signed delivery comes again (a replay). Anything else is a 401 and a log
 * line that names the reason, never the body.
 */
final class PlaidWebhooks {
  private static final Logger log = LoggerFactory.getLogger(PlaidWebhooks.class);
  private static final Base64.Decoder B64URL = Base64.getUrlDecoder();
  /** Node-wide, so two HTTP instances on a node hand a duplicate on once. */
  private static final String SEEN_MAP = "http.plaid-webhooks.seen";

  private final Vertx vertx;
  private final PlaidClient plaid;
  private final long maxAgeMs;
  private final long duplicateWindowMs;
  private final long keyTtlMs;
  private final long unknownKidTtlMs;
  private final long handOffAttemptMs;
  private final long handOffTotalMs;
  private final Map<String, CachedKey> keys = new HashMap<>();
  private final LocalMap<String, Long> seen;
  /** Per Item, the body hash of the last ITEM webhook taken and when: {@code <hash> <millis>}. */
  private final LocalMap<String, String> lastItemBody;
  private static final ECParameterSpec P256 = p256();

  private record CachedKey(Future<PublicKey> key, long fetchedAtMs, boolean failed) {}

  /** Why a webhook was refused: logged, and never containing the body. */
  static final class Forged extends RuntimeException {
    Forged(String message) {
      super(message, null, false, false);
    }
  }

  PlaidWebhooks(Vertx vertx, PlaidClient plaid, JsonObject config) {
    this.vertx = vertx;
    this.plaid = plaid;
    this.maxAgeMs = config.getLong("max_age_ms", 300_000L);
    this.duplicateWindowMs = config.getLong("duplicate_window_ms", 600_000L);
    this.keyTtlMs = config.getLong("key_cache_ms", 86_400_000L);
    this.unknownKidTtlMs = config.getLong("unknown_kid_cache_ms", 60_000L);
    // Plaid counts a webhook not answered 200 within 10 s as failed: the whole hand-off fits well inside
    this.handOffAttemptMs = config.getLong("handoff_attempt_ms", 3_000L);
    this.handOffTotalMs = config.getLong("handoff_total_ms", 7_000L);
    this.seen = vertx.sharedData().getLocalMap(SEEN_MAP);
    this.lastItemBody = vertx.sharedData().getLocalMap(SEEN_MAP + ".last-item");
  }

  void handle(RoutingContext ctx) {
    Buffer body = ctx.body().buffer();
    String header = ctx.request().getHeader("Plaid-Verification");
    if (body == null) {
      body = Buffer.buffer();
    }
    Buffer raw = body;
    verify(header, raw.getBytes(), System.currentTimeMillis()).onComplete(result -> {
      if (result.failed()) {
        String reason = result.cause() instanceof Forged ? result.cause().getMessage() : "verification failed";
        log.warn("Plaid webhook refused from {}: {} ({} bytes)", ctx.request().remoteAddress(), reason, raw.length());
        Responses.error(ctx, 401, "WEBHOOK_NOT_VERIFIED", "The Plaid-Verification header does not verify this body");
        return;
      }
      String hash = result.result();
      JsonObject webhook;
      try {
        webhook = new JsonObject(raw);
      } catch (RuntimeException e) {
        Responses.error(ctx, 400, "INVALID_REQUEST", "The webhook body is not a JSON object");
        return;
      }
      // A TRANSACTIONS webhook says "new data": Plaid's body for the next change of the same Item is the
      // same bytes, so it is never a duplicate, and handing it on again costs one coalesced sync. The others
      // (ITEM) are states: a resend of the Item's last one changes nothing and is not handed on, but the same
      // state again after another (ERROR, LOGIN_REPAIRED, ERROR, LOGIN_REPAIRED) is news: dropping the second
      // LOGIN_REPAIRED would leave a repaired connection parked for good.
      String itemId = webhook.getString("item_id");
      boolean dedupe = !"TRANSACTIONS".equals(webhook.getString("webhook_type")) && itemId != null;
      Long before = dedupe ? lastTaken(itemId, hash) : null;
      // the same Plaid-Verification twice is a replay whatever the type (Plaid signs every attempt afresh):
      // without this, one captured TRANSACTIONS webhook could be replayed for five minutes, a sync each time
      String replayKey = "jwt:" + sha256Hex(header.getBytes(StandardCharsets.US_ASCII));
      Long replayed = seen.get(replayKey);
      if (replayed != null && (before == null || replayed > before)) {
        before = replayed;
      }
      if (before != null && System.currentTimeMillis() - before < duplicateWindowMs) {
        Responses.json(ctx, 200, new JsonObject().put("success", true).put("received", true).put("duplicate", true));
        return;
      }
      // 200 only once sync has written what the webhook asks for to PostgreSQL: from then on any node's
      // sync does it, whichever node dies. Until then nothing is promised, and Plaid sends it again.
      handOn(webhook).onComplete(handed -> {
        if (handed.succeeded()) {
          // a death here: recorded, never answered; Plaid sends it again and the hand-off is idempotent
          CrashPoints.reach("webhook.recorded");
          if (dedupe) {
            lastItemBody.put(itemId, hash + " " + System.currentTimeMillis());
          }
          seen.put(replayKey, System.currentTimeMillis());
          Responses.json(ctx, 200, new JsonObject().put("success", true).put("received", true).put("duplicate", false));
        } else {
          log.warn("Plaid webhook {}/{} for item {} not taken by sync ({}); answered 503 so that Plaid sends it again",
              webhook.getString("webhook_type"), webhook.getString("webhook_code"), webhook.getString("item_id"),
              handed.cause().getMessage());
          Responses.error(ctx, 503, "UNAVAILABLE", "The webhook could not be recorded now; send it again later");
        }
      });
    });
  }

  private Future<Object> handOn(JsonObject webhook) {
    // sync acts on it as a command, recorded before the answer; health tracking (and anyone watching)
    // learns of it as an event
    return Bus.handOff(vertx, Addresses.SYNC_WEBHOOK, webhook, handOffAttemptMs, handOffTotalMs, true)
        .onSuccess(recorded -> vertx.eventBus().publish(Addresses.PLAID_WEBHOOK_RECEIVED, webhook));
  }

  /** When this body was taken as the Item's last ITEM webhook; null when the Item's last one was another. */
  private Long lastTaken(String itemId, String hash) {
    String last = lastItemBody.get(itemId);
    if (last == null) {
      return null;
    }
    int space = last.indexOf(' ');
    return last.substring(0, space).equals(hash) ? Long.valueOf(last.substring(space + 1)) : null;
  }

  /** Drops duplicate marks and cached keys that have aged out; called periodically. */
  void prune() {
    long now = System.currentTimeMillis();
    for (String itemId : lastItemBody.keySet()) {
      String last = lastItemBody.get(itemId);
      if (last != null && now - Long.parseLong(last.substring(last.indexOf(' ') + 1)) > duplicateWindowMs) {
        lastItemBody.remove(itemId);
      }
    }
    for (String hash : seen.keySet()) {
      Long at = seen.get(hash);
      if (at != null && now - at > duplicateWindowMs) {
        seen.remove(hash);
      }
    }
    for (Iterator<CachedKey> it = keys.values().iterator(); it.hasNext(); ) {
      CachedKey cached = it.next();
      if (now - cached.fetchedAtMs() > (cached.failed() ? unknownKidTtlMs : keyTtlMs)) {
        it.remove();
      }
    }
  }

  /** Verifies a webhook; succeeds with the body's SHA-256 (hex), fails with {@link Forged}. */
  Future<String> verify(String jwt, byte[] body, long nowMs) {
    if (jwt == null || jwt.isBlank()) {
      return Future.failedFuture(new Forged("no Plaid-Verification header"));
    }
    String[] parts = jwt.split("\\.", -1);
    if (parts.length != 3 || jwt.length() > 4096) {
      return Future.failedFuture(new Forged("Plaid-Verification is not a JWT"));
    }
    JsonObject header;
    JsonObject claims;
    byte[] signature;
    try {
      header = new JsonObject(new String(B64URL.decode(parts[0]), StandardCharsets.UTF_8));
      claims = new JsonObject(new String(B64URL.decode(parts[1]), StandardCharsets.UTF_8));
      signature = B64URL.decode(parts[2]);
    } catch (RuntimeException e) {
      return Future.failedFuture(new Forged("Plaid-Verification cannot be decoded"));
    }
    if (!"ES256".equals(header.getValue("alg"))) {
      return Future.failedFuture(new Forged("algorithm is not ES256"));
    }
    if (!(header.getValue("kid") instanceof String kid) || kid.isBlank() || kid.length() > 128) {
      return Future.failedFuture(new Forged("no key id"));
    }
    if (signature.length != 64) {
      return Future.failedFuture(new Forged("signature is not an ES256 signature"));
    }
    return key(kid, nowMs).compose(publicKey -> {
      try {
        Signature verifier = Signature.getInstance("SHA256withECDSAinP1363Format");
        verifier.initVerify(publicKey);
        verifier.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
        if (!verifier.verify(signature)) {
          return Future.failedFuture(new Forged("signature does not verify"));
        }
      } catch (GeneralSecurityException e) {
        return Future.failedFuture(new Forged("signature does not verify"));
      }
      if (!(claims.getValue("iat") instanceof Number iat)) {
        return Future.failedFuture(new Forged("no iat"));
      }
      long ageMs = nowMs - iat.longValue() * 1000;
      if (ageMs > maxAgeMs || ageMs < -60_000) {
        return Future.failedFuture(new Forged("issued " + ageMs / 1000 + " s ago, outside the accepted window"));
      }
      if (!(claims.getValue("request_body_sha256") instanceof String claimed)) {
        return Future.failedFuture(new Forged("no request_body_sha256"));
      }
      String actual = sha256Hex(body);
      if (!MessageDigest.isEqual(actual.getBytes(StandardCharsets.US_ASCII), claimed.getBytes(StandardCharsets.US_ASCII))) {
        return Future.failedFuture(new Forged("body hash does not match"));
      }
      return Future.succeededFuture(actual);
    });
  }

  private Future<PublicKey> key(String kid, long nowMs) {
    CachedKey cached = keys.get(kid);
    if (cached != null && nowMs - cached.fetchedAtMs() <= (cached.failed() ? unknownKidTtlMs : keyTtlMs)) {
      return cached.key();
    }
    Future<PublicKey> fetched = plaid.getWebhookVerificationKey(kid)
        .recover(failure -> Future.failedFuture(new Forged("key " + kid + " is unknown to Plaid")))
        .compose(this::publicKey);
    keys.put(kid, new CachedKey(fetched, nowMs, false));
    fetched.onFailure(failure -> keys.put(kid, new CachedKey(fetched, nowMs, true)));
    return fetched;
  }

  private Future<PublicKey> publicKey(WebhookVerificationKey jwk) {
    if (!"ES256".equals(jwk.alg()) || !"EC".equals(jwk.kty()) || !"P-256".equals(jwk.crv())) {
      return Future.failedFuture(new Forged("key " + jwk.kid() + " is not a P-256 ES256 key"));
    }
    if (jwk.expired()) {
      return Future.failedFuture(new Forged("key " + jwk.kid() + " has expired"));
    }
    try {
      ECPoint point = new ECPoint(new BigInteger(1, B64URL.decode(jwk.x())), new BigInteger(1, B64URL.decode(jwk.y())));
      return Future.succeededFuture(KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(point, P256)));
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      return Future.failedFuture(new Forged("key " + jwk.kid() + " cannot be read"));
    }
  }

  static String sha256Hex(byte[] body) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }

  private static ECParameterSpec p256() {
    try {
      AlgorithmParameters parameters = AlgorithmParameters.getInstance("EC");
      parameters.init(new ECGenParameterSpec("secp256r1"));
      return parameters.getParameterSpec(ECParameterSpec.class);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JDK has no P-256", e);
    }
  }
}
