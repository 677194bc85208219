package com.mingus.reliability.bench;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.MessageCodecs;
import com.mingus.reliability.bus.NotificationType;
import com.mingus.reliability.bus.NotifyPreferences;
import com.mingus.reliability.bus.NotifySend;
import com.mingus.reliability.db.Pools;
import com.mingus.reliability.notify.NotifyVerticle;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mail.LoginOption;
import io.vertx.ext.mail.MailClient;
import io.vertx.ext.mail.MailConfig;
import io.vertx.ext.mail.MailMessage;
import io.vertx.ext.mail.StartTLSOptions;
import java.net.ServerSocket;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * Notifications accepted and delivered per second through the outbox (in-app; email to GreenMail), and,
 * as the peer in the same run, the same mails sent straight to GreenMail with vertx-mail-client and no
 * outbox (the try-once approach of Novu's providers). Bounded: fixed counts, a fixed window, a deadline.
 *
 * <pre>
 * mvn -B -q test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt -Dmdep.includeScope=test
 * java -cp target/test-classes:target/classes:$(cat target/cp.txt) com.mingus.reliability.bench.NotifyBench [inApp] [email]
 * </pre>
 */
public final class NotifyBench {
  private static final int WINDOW = 256;

  private NotifyBench() {}

  public static void main(String[] args) throws Exception {
    int inAppCount = args.length > 0 ? Integer.parseInt(args[0]) : 5_000;
    int emailCount = args.length > 1 ? Integer.parseInt(args[1]) : 2_000;
    int smtpPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      smtpPort = socket.getLocalPort();
    }
    GreenMail greenMail = new GreenMail(new ServerSetup(smtpPort, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
    greenMail.start();
    Vertx vertx = Vertx.vertx();
    MessageCodecs.register(vertx.eventBus());
    try {
      JsonObject config = new JsonObject()
          .put("database", Pools.connectionConfig(TestDatabase.fresh("notify_bench"), 8))
          .put("smtp", new JsonObject().put("host", "127.0.0.1").put("port", smtpPort).put("starttls", "DISABLED")
              .put("max_pool_size", Integer.getInteger("bench.smtp_pool", 8)))
          .put("concurrency", Integer.getInteger("bench.concurrency", 64))
          .put("claim_batch", Integer.getInteger("bench.claim_batch", 50));
      await(vertx.deployVerticle(NotifyVerticle::new, new DeploymentOptions().setConfig(config)
          .setInstances(Integer.getInteger("bench.instances", 1))));
      await(Bus.request(vertx, Addresses.NOTIFY_PREFERENCES_PUT, new NotifyPreferences("bench-mail", "UTC", null, null,
          null, "bench@example.com", null, List.of(), null, null, false, null), 10_000));

      AtomicInteger announced = new AtomicInteger();
      vertx.eventBus().consumer(Addresses.NOTIFICATION_CREATED, m -> announced.incrementAndGet());

      // warm-up: JIT, prepared statements, pooled SMTP connections
      run(vertx, 500, i -> NotifySend.of("warm", NotificationType.DATA_SYNC_STATUS, null, null, new JsonObject()));
      waitFor(() -> announced.get() >= 500, 60);
      announced.set(0);
      run(vertx, 500, i -> new NotifySend("bench-mail", "account_update", null, null, new JsonObject(), List.of("email"),
          null, null, null));
      waitFor(() -> greenMail.getReceivedMessages().length >= 500, 60);

      long start = System.nanoTime();
      run(vertx, inAppCount, i -> NotifySend.of("bench-user-" + (i % 100), NotificationType.DATA_SYNC_STATUS,
          "conn-" + i, null, new JsonObject().put("institution_name", "Bank " + i)));
      double acceptedS = seconds(start);
      waitFor(() -> announced.get() >= inAppCount, 120);
      double deliveredS = seconds(start);
      report("in-app", inAppCount, acceptedS, deliveredS);

      greenMail.purgeEmailFromAllMailboxes();
      start = System.nanoTime();
      run(vertx, emailCount, i -> new NotifySend("bench-mail", "account_update", null, null,
          new JsonObject().put("detail", "change " + i), List.of("email"), null, "Bench", null));
      double emailAcceptedS = seconds(start);
      waitFor(() -> greenMail.getReceivedMessages().length >= emailCount, 300);
      double emailDeliveredS = seconds(start);
      report("email (outbox)", emailCount, emailAcceptedS, emailDeliveredS);

      // the peer sends the very mail the outbox sent (same subject and parts), so only the path differs
      jakarta.mail.internet.MimeMessage sample = greenMail.getReceivedMessages()[0];
      String subject = sample.getSubject();
      String[] parts = parts(sample);
      greenMail.purgeEmailFromAllMailboxes();
      MailClient direct = MailClient.create(vertx, new MailConfig().setHostname("127.0.0.1").setPort(smtpPort)
          .setStarttls(StartTLSOptions.DISABLED).setLogin(LoginOption.DISABLED).setKeepAlive(true).setMaxPoolSize(8));
      start = System.nanoTime();
      runFutures(vertx, emailCount, i -> direct.sendMail(new MailMessage().setFrom("no-reply@mingus.test")
          .setTo("bench@example.com").setSubject(subject).setText(parts[0].replace("change 0", "change " + i))
          .setHtml(parts[1].replace("change 0", "change " + i))));
      waitFor(() -> greenMail.getReceivedMessages().length >= emailCount, 300);
      double peerS = seconds(start);
      report("email (peer: direct send, no outbox)", emailCount, peerS, peerS);
      System.out.printf(Locale.ROOT, "ratio outbox/direct email delivered per second: %.2f%n",
          (emailCount / emailDeliveredS) / (emailCount / peerS));
    } finally {
      await(vertx.close());
      greenMail.stop();
    }
  }

  /** {text, html} of a multipart/alternative mail. */
  private static String[] parts(jakarta.mail.internet.MimeMessage message) throws Exception {
    String[] out = {"", ""};
    if (message.getContent() instanceof jakarta.mail.Multipart multipart) {
      for (int i = 0; i < multipart.getCount(); i++) {
        jakarta.mail.BodyPart part = multipart.getBodyPart(i);
        out[part.isMimeType("text/html") ? 1 : 0] = String.valueOf(part.getContent());
      }
    }
    return out;
  }

  private static void run(Vertx vertx, int count, IntFunction<NotifySend> request) {
    runFutures(vertx, count, i -> Bus.request(vertx, Addresses.NOTIFY_SEND, request.apply(i), 60_000));
  }

  /** Keeps {@link #WINDOW} requests in flight until {@code count} have completed; fails on the first failure. */
  private static void runFutures(Vertx vertx, int count, IntFunction<Future<?>> call) {
    Promise<Void> done = Promise.promise();
    AtomicInteger next = new AtomicInteger();
    AtomicInteger completed = new AtomicInteger();
    Runnable[] launch = new Runnable[1];
    launch[0] = () -> {
      int i = next.getAndIncrement();
      if (i >= count) {
        return;
      }
      call.apply(i).onComplete(result -> {
        if (result.failed()) {
          done.tryFail(result.cause());
          return;
        }
        if (completed.incrementAndGet() == count) {
          done.tryComplete();
        } else {
          launch[0].run();
        }
      });
    };
    vertx.runOnContext(ignored -> {
      for (int i = 0; i < Math.min(WINDOW, count); i++) {
        launch[0].run();
      }
    });
    await(done.future());
  }

  private static void waitFor(java.util.function.BooleanSupplier condition, int timeoutSeconds) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("benchmark did not finish within " + timeoutSeconds + " s");
      }
      Thread.sleep(5);
    }
  }

  private static double seconds(long start) {
    return (System.nanoTime() - start) / 1e9;
  }

  private static void report(String what, int count, double acceptedS, double deliveredS) {
    System.out.printf(Locale.ROOT, "%-40s n=%d  accepted %.0f/s (%.2f s)  delivered %.0f/s (%.2f s)%n", what, count,
        count / acceptedS, acceptedS, count / deliveredS, deliveredS);
  }

  private static <T> T await(Future<T> future) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(600, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
