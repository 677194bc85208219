package com.mingus.reliability.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** JSON helpers shared by the records of this package. */
final class Wire {
  private Wire() {}

  static List<String> strings(JsonArray array) {
    if (array == null) {
      return null;
    }
    List<String> out = new ArrayList<>();
    array.forEach(item -> out.add(item == null ? "" : String.valueOf(item)));
    return List.copyOf(out);
  }

  static <T> List<T> list(JsonArray array, Function<JsonObject, T> decoder) {
    List<T> out = new ArrayList<>();
    if (array != null) {
      for (int i = 0; i < array.size(); i++) {
        out.add(decoder.apply(array.getJsonObject(i)));
      }
    }
    return List.copyOf(out);
  }

  static JsonArray array(List<? extends BusMessage> items) {
    JsonArray out = new JsonArray();
    if (items != null) {
      items.forEach(item -> out.add(item.toJson()));
    }
    return out;
  }
}
