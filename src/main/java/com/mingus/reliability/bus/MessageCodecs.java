package com.mingus.reliability.bus;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;

/**
 * The one codec for {@link BusMessage} bodies, chosen by class through the event bus codec selector:
 * a local send passes the immutable record itself; a send to another node writes its type and JSON.
 */
public final class MessageCodecs implements MessageCodec<BusMessage, BusMessage> {
  public static final String NAME = "mingus-message";

  /** Registers the codec and its selector; safe to call more than once on the same event bus. */
  public static void register(EventBus eventBus) {
    try {
      eventBus.registerCodec(new MessageCodecs());
    } catch (IllegalStateException alreadyRegistered) {
      return;
    }
    eventBus.codecSelector(body -> body instanceof BusMessage ? NAME : null);
  }

  @Override
  public void encodeToWire(Buffer buffer, BusMessage message) {
    byte[] type = message.getClass().getName().getBytes(StandardCharsets.UTF_8);
    Buffer json = message.toJson().toBuffer();
    buffer.appendInt(type.length).appendBytes(type).appendInt(json.length()).appendBuffer(json);
  }

  @Override
  public BusMessage decodeFromWire(int pos, Buffer buffer) {
    int typeLength = buffer.getInt(pos);
    String type = buffer.getString(pos + 4, pos + 4 + typeLength, "UTF-8");
    int jsonStart = pos + 4 + typeLength;
    int jsonLength = buffer.getInt(jsonStart);
    JsonObject json = new JsonObject(buffer.getBuffer(jsonStart + 4, jsonStart + 4 + jsonLength));
    return MessageTypes.decode(type, json);
  }

  @Override
  public BusMessage transform(BusMessage message) {
    return message;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
