package com.mingus.reliability.bus;

import io.vertx.core.json.JsonObject;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Rebuilds a bus message that arrived from another node from its type name and JSON. Only records of this
 * package that implement {@link BusMessage} and declare {@code static fromJson(JsonObject)} qualify, so a
 * peer cannot make this node load an arbitrary class.
 */
final class MessageTypes {
  private MessageTypes() {}

  private static final String PACKAGE = MessageTypes.class.getPackageName() + ".";
  private static final Map<String, Method> DECODERS = new ConcurrentHashMap<>();

  static BusMessage decode(String type, JsonObject json) {
    Method decoder = DECODERS.computeIfAbsent(type, MessageTypes::decoderOf);
    try {
      return (BusMessage) decoder.invoke(null, json);
    } catch (ReflectiveOperationException e) {
      throw new IllegalArgumentException("cannot decode bus message " + type + ": " + e.getMessage(), e);
    }
  }

  private static Method decoderOf(String type) {
    if (!type.startsWith(PACKAGE) || type.substring(PACKAGE.length()).contains(".")) {
      throw new IllegalArgumentException("not a bus message type: " + type);
    }
    try {
      Class<?> cls = Class.forName(type, false, MessageTypes.class.getClassLoader());
      if (!BusMessage.class.isAssignableFrom(cls)) {
        throw new IllegalArgumentException("not a bus message type: " + type);
      }
      Method method = cls.getMethod("fromJson", JsonObject.class);
      if (!Modifier.isStatic(method.getModifiers())) {
        throw new IllegalArgumentException(type + ".fromJson is not static");
      }
      return method;
    } catch (ClassNotFoundException | NoSuchMethodException e) {
      throw new IllegalArgumentException("not a bus message type: " + type);
    }
  }
}
