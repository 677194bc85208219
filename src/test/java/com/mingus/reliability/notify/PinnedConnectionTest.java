package com.mingus.reliability.notify;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SelfSignedCertificate;
import java.net.InetAddress;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The webhook sender connects to the address the guard checked and presents the URL's name as Host and TLS
 * SNI, with the certificate verified against that name; and a name that also resolves to a private address
 * is refused whatever its other addresses are.
 */
class PinnedConnectionTest {
  private Vertx vertx;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void stop() {
    NotifyVerticleTest.await(vertx.close());
  }

  private static Delivery delivery(String url) {
    return new Delivery("d-1", "n-1", "u-1", "webhook", url, "n-1:webhook", "Title", "Body", null, "medium", 1,
        "data_sync_status", null, "Title", "Body", new JsonObject(), OffsetDateTime.now());
  }

  @Test
  void httpsWebhooksGoToTheCheckedAddressWithTheNameAsHostAndSni() {
    SelfSignedCertificate certificate = SelfSignedCertificate.create("hooks.example");
    List<String> seen = new CopyOnWriteArrayList<>();
    HttpServer server = NotifyVerticleTest.await(vertx.createHttpServer(new HttpServerOptions().setSsl(true).setSni(true)
            .setKeyCertOptions(certificate.keyCertOptions()))
        .requestHandler(request -> {
          seen.add(request.connection().indicatedServerName() + " " + request.getHeader("Host") + " "
              + request.connection().localAddress().hostAddress());
          request.response().setStatusCode(204).end();
        }).listen(0, "127.0.0.1"));
    HttpClient client = vertx.createHttpClient(new HttpClientOptions().setTrustOptions(certificate.trustOptions())
        .setVerifyHost(true).setForceSni(true));
    // the name resolves (here, by a fixed table) to this machine; loopback is allowed for the test only
    SsrfGuard guard = new SsrfGuard(true, Set.of(), host -> host.equals("hooks.example")
        ? List.of(InetAddress.getLoopbackAddress()) : List.of());
    WebhookChannel channel = new WebhookChannel(vertx, client, guard, 5_000);
    String url = "https://hooks.example:" + server.actualPort() + "/in";
    SendOutcome outcome = NotifyVerticleTest.await(channel.send(delivery(url), StandardWebhooks.newSecret()));
    assertThat(outcome.kind()).as(String.valueOf(outcome.error())).isEqualTo(SendOutcome.Kind.SENT);
    assertThat(seen).containsExactly("hooks.example hooks.example:" + server.actualPort() + " 127.0.0.1");

    // a certificate for another name fails verification: the pin does not weaken TLS
    SsrfGuard elsewhere = new SsrfGuard(true, Set.of(), host -> List.of(InetAddress.getLoopbackAddress()));
    SendOutcome wrongName = NotifyVerticleTest.await(new WebhookChannel(vertx, client, elsewhere, 5_000)
        .send(delivery("https://other.example:" + server.actualPort() + "/in"), StandardWebhooks.newSecret()));
    assertThat(wrongName.kind()).isEqualTo(SendOutcome.Kind.RETRY);
    assertThat(wrongName.error()).contains("SSL");
    assertThat(seen).hasSize(1);
  }

  @Test
  void aNameWithAnyPrivateAddressAmongItsAddressesIsRefused() throws Exception {
    Map<String, List<InetAddress>> table = Map.of(
        "mixed.example", List.of(InetAddress.getByName("93.184.216.34"), InetAddress.getByName("10.1.2.3")),
        "rebind.example", List.of(InetAddress.getByName("169.254.169.254")),
        "v6.example", List.of(InetAddress.getByName("2606:4700::1"), InetAddress.getByName("fd12::1")),
        "public.example", List.of(InetAddress.getByName("93.184.216.34")));
    SsrfGuard guard = new SsrfGuard(false, Set.of(), table::get);
    for (String name : List.of("mixed.example", "rebind.example", "v6.example")) {
      assertThat(guard.check(vertx, "https://" + name + "/").toCompletionStage().toCompletableFuture()
          .handle((ok, error) -> error).join()).as(name).isInstanceOf(SsrfGuard.Refused.class);
    }
    assertThat(NotifyVerticleTest.await(guard.check(vertx, "https://public.example/")).address().getHostAddress())
        .isEqualTo("93.184.216.34");
  }

  @Test
  void privateIpv4AddressesAreRefusedInEverySpellingAResolverAccepts() throws Exception {
    SsrfGuard guard = new SsrfGuard(false, Set.of());
    Random random = new Random(8);
    int[][] ranges = {{10, 0, 8}, {127, 0, 8}, {172, 16, 12}, {192, 168, 16}, {169, 254, 16}, {100, 64, 10}, {0, 0, 8},
        {224, 0, 4}, {240, 0, 4}};
    for (int i = 0; i < 2_000; i++) {
      int[] range = ranges[random.nextInt(ranges.length)];
      long base = ((long) range[0] << 24) | ((long) range[1] << 16);
      long address = base | (random.nextLong() & ((1L << (32 - range[2])) - 1));
      String host = spell(address, random);
      assertThat(guard.forbidden(SsrfGuard.inetAton(host), 80)).as(host).isNotNull();
      String url = "http://" + host + ":" + (1 + random.nextInt(65535)) + "/";
      Throwable failure = guard.check(vertx, url).toCompletionStage().toCompletableFuture()
          .handle((ok, error) -> error).join();
      assertThat(failure).as(url).isInstanceOf(SsrfGuard.Refused.class);
    }
  }

  /** One of the forms inet_aton accepts: 1 to 4 parts, each decimal, octal or hex. */
  private static String spell(long address, Random random) {
    int parts = 1 + random.nextInt(4);
    long[] values;
    switch (parts) {
      case 1 -> values = new long[] {address};
      case 2 -> values = new long[] {address >>> 24, address & 0xFFFFFF};
      case 3 -> values = new long[] {address >>> 24, (address >>> 16) & 0xFF, address & 0xFFFF};
      default -> values = new long[] {address >>> 24, (address >>> 16) & 0xFF, (address >>> 8) & 0xFF, address & 0xFF};
    }
    StringBuilder out = new StringBuilder();
    for (long value : values) {
      if (out.length() > 0) {
        out.append('.');
      }
      switch (random.nextInt(3)) {
        case 0 -> out.append(value);
        case 1 -> out.append('0').append(Long.toOctalString(value));
        default -> out.append(random.nextBoolean() ? "0x" : "0X").append(Long.toHexString(value));
      }
    }
    return out.toString();
  }
}
