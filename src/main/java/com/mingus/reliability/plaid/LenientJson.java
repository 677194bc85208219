package com.mingus.reliability.plaid;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Reads answers from a server we do not control: a field of the wrong type reads as absent instead of
 * throwing, so a hostile or newer body can never break the caller with a ClassCastException.
 */
final class LenientJson {
  private LenientJson() {}

  static String text(JsonObject json, String key) {
    Object value = json == null ? null : json.getValue(key);
    return value instanceof String || value instanceof Number || value instanceof Boolean ? value.toString() : null;
  }

  static Boolean bool(JsonObject json, String key) {
    return json != null && json.getValue(key) instanceof Boolean b ? b : null;
  }

  static boolean bool(JsonObject json, String key, boolean fallback) {
    Boolean value = bool(json, key);
    return value == null ? fallback : value;
  }

  static Integer integer(JsonObject json, String key) {
    Object value = json == null ? null : json.getValue(key);
    return value instanceof Number n ? Integer.valueOf(n.intValue()) : null;
  }

  static Long longValue(JsonObject json, String key) {
    Object value = json == null ? null : json.getValue(key);
    return value instanceof Number n ? Long.valueOf(n.longValue()) : null;
  }

  static Double decimal(JsonObject json, String key) {
    Object value = json == null ? null : json.getValue(key);
    return value instanceof Number n ? Double.valueOf(n.doubleValue()) : null;
  }

  /** Money: the number as written, without binary floating-point rounding. */
  static BigDecimal money(JsonObject json, String key) {
    Object value = json == null ? null : json.getValue(key);
    if (value instanceof Number n) {
      try {
        return new BigDecimal(n.toString());
      } catch (NumberFormatException notFinite) {
        return null;
      }
    }
    return null;
  }

  /** An ISO-8601 timestamp with offset (Plaid's date-time format), or null. */
  static Instant instant(JsonObject json, String key) {
    String value = text(json, key);
    if (value == null) {
      return null;
    }
    try {
      return OffsetDateTime.parse(value).toInstant();
    } catch (DateTimeParseException e) {
      try {
        return Instant.parse(value);
      } catch (DateTimeParseException again) {
        return null;
      }
    }
  }

  static LocalDate date(JsonObject json, String key) {
    String value = text(json, key);
    if (value == null) {
      return null;
    }
    try {
      return LocalDate.parse(value);
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  static JsonObject object(JsonObject json, String key) {
    Object value = json == null ? null : json.getValue(key);
    if (value instanceof JsonObject object) {
      return object;
    }
    if (value instanceof Map<?, ?> map) {
      return new JsonObject(castMap(map));
    }
    return null;
  }

  static JsonArray array(JsonObject json, String key) {
    Object value = json == null ? null : json.getValue(key);
    if (value instanceof JsonArray array) {
      return array;
    }
    if (value instanceof List<?> list) {
      return new JsonArray(new ArrayList<>(list));
    }
    return null;
  }

  /** The objects of an array mapped one by one; entries that are not objects are skipped. */
  static <T> List<T> objects(JsonObject json, String key, Function<JsonObject, T> mapper) {
    JsonArray array = array(json, key);
    if (array == null) {
      return List.of();
    }
    List<T> out = new ArrayList<>(array.size());
    for (int i = 0; i < array.size(); i++) {
      Object entry = array.getValue(i);
      if (entry instanceof JsonObject object) {
        out.add(mapper.apply(object));
      }
    }
    return List.copyOf(out);
  }

  /** The strings of an array; other entries are skipped. */
  static List<String> texts(JsonObject json, String key) {
    JsonArray array = array(json, key);
    if (array == null) {
      return List.of();
    }
    List<String> out = new ArrayList<>(array.size());
    for (int i = 0; i < array.size(); i++) {
      if (array.getValue(i) instanceof String s) {
        out.add(s);
      }
    }
    return List.copyOf(out);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> castMap(Map<?, ?> map) {
    return (Map<String, Object>) map;
  }
}
