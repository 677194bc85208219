package com.mingus.reliability.plaid;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.codec.BodyCodec;
import io.vertx.ext.web.codec.spi.BodyStream;

/**
 * Collects a response body like {@code BodyCodec.buffer()}, but fails once it grows past a limit, so a
 * broken or hostile server cannot make us buffer gigabytes.
 */
final class CappedBodyCodec implements BodyCodec<Buffer> {
  private final long limit;

  CappedBodyCodec(long limit) {
    this.limit = limit;
  }

  @Override
  public BodyStream<Buffer> stream() {
    return new Collector(limit);
  }

  private static final class Collector implements BodyStream<Buffer> {
    private final long limit;
    private final Buffer body = Buffer.buffer();
    private final Promise<Buffer> result = Promise.promise();
    private Handler<Throwable> exceptionHandler;

    Collector(long limit) {
      this.limit = limit;
    }

    @Override
    public Future<Buffer> result() {
      return result.future();
    }

    @Override
    public void handle(Throwable failure) {
      result.tryFail(failure);
    }

    @Override
    public Future<Void> write(Buffer data) {
      if (result.future().isComplete()) {
        return Future.failedFuture("body already complete");
      }
      if (body.length() + (long) data.length() > limit) {
        TransportErrors.BodyTooLargeException tooLarge = new TransportErrors.BodyTooLargeException(limit);
        result.tryFail(tooLarge);
        if (exceptionHandler != null) {
          exceptionHandler.handle(tooLarge);
        }
        return Future.failedFuture(tooLarge);
      }
      body.appendBuffer(data);
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> end() {
      result.tryComplete(body);
      return result.future().mapEmpty();
    }

    @Override
    public Collector exceptionHandler(Handler<Throwable> handler) {
      this.exceptionHandler = handler;
      return this;
    }

    @Override
    public Collector setWriteQueueMaxSize(int maxSize) {
      return this;
    }

    @Override
    public boolean writeQueueFull() {
      return false;
    }

    @Override
    public Collector drainHandler(Handler<Void> handler) {
      return this;
    }
  }
}
