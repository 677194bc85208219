package com.mingus.reliability.bus;

import io.vertx.core.json.JsonArray;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * The one pagination convention of every list (docs/api.md, "Pagination"): {@code limit} and an opaque
 * {@code cursor} in, {@code next_cursor} (null on the last page) and {@code has_more} out. A cursor holds the
 * sort key of the last row shown (keyset pagination: a stable order ending in a unique column), so a row
 * written while someone pages is neither skipped nor shown twice.
 *
 * <p>A cursor names its list and carries a check over its content: one that was altered, cut, or issued by
 * another list is refused with {@link IllegalArgumentException} (INVALID_REQUEST, HTTP 400). It grants nothing:
 * every list still filters by its caller, so the check is about telling a bad cursor apart, not about secrecy.
 */
public final class PageCursor {
  private PageCursor() {}

  /** What a caller is told whatever is wrong with a cursor. */
  public static final String INVALID = "cursor is not one this server issued";

  private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();
  private static final int CHECK_BYTES = 8;

  /** The cursor after a row whose sort key is {@code keys}, for the list named {@code list}. */
  public static String encode(String list, String... keys) {
    byte[] payload = new JsonArray(Arrays.asList((Object[]) keys)).encode().getBytes(StandardCharsets.UTF_8);
    return ENCODER.encodeToString(payload) + "." + ENCODER.encodeToString(check(list, payload));
  }

  /**
   * The sort key a cursor of {@code list} holds, {@code parts} values; null for no cursor (the first page).
   *
   * @throws IllegalArgumentException for any cursor this list did not issue
   */
  public static List<String> decode(String list, String cursor, int parts) {
    if (cursor == null || cursor.isEmpty()) {
      return null;
    }
    try {
      int dot = cursor.indexOf('.');
      byte[] payload = Base64.getUrlDecoder().decode(cursor.substring(0, dot));
      byte[] check = Base64.getUrlDecoder().decode(cursor.substring(dot + 1));
      // the check, and the text being exactly what encode writes (base64 ignores the spare bits of its last character)
      if (!MessageDigest.isEqual(check, check(list, payload)) || !cursor.equals(ENCODER.encodeToString(payload) + "."
          + ENCODER.encodeToString(check))) {
        throw new IllegalArgumentException(INVALID);
      }
      JsonArray keys = new JsonArray(new String(payload, StandardCharsets.UTF_8));
      if (keys.size() != parts) {
        throw new IllegalArgumentException(INVALID);
      }
      List<String> out = new ArrayList<>(parts);
      for (int i = 0; i < parts; i++) {
        out.add(keys.getString(i));
      }
      return out;
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(INVALID);
    }
  }

  /**
   * The page size a request asks for: {@code fallback} when absent, else an integer from 1 to {@code max}.
   *
   * @throws IllegalArgumentException for anything else
   */
  public static int limit(Object value, int fallback, int max) {
    if (value == null) {
      return fallback;
    }
    if (!(value instanceof Integer || value instanceof Long) || ((Number) value).longValue() < 1
        || ((Number) value).longValue() > max) {
      throw new IllegalArgumentException("limit must be an integer from 1 to " + max);
    }
    return ((Number) value).intValue();
  }

  private static byte[] check(String list, byte[] payload) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      digest.update(("mingus-page-cursor|" + list + "|").getBytes(StandardCharsets.UTF_8));
      return Arrays.copyOf(digest.digest(payload), CHECK_BYTES);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
