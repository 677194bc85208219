package com.mingus.reliability.notify;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.bus.PushSubscription;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.dns.AddressResolverOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import java.net.InetAddress;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The outbound-webhook guard against DNS rebinding, redirects and IDN spellings, over real sockets.
 *
 * <p>Rebinding: the name {@code rebind.example} is, for Vert.x's own resolver, 127.0.0.2 (a hosts entry),
 * where a trap listens; the guard's resolver answers 127.0.0.1 (let through as an allowed test target, the
 * stand-in for a public address) first and 127.0.0.2 afterwards. A sender that resolved the name again, or
 * let the HTTP client resolve it, would reach the trap (the control proves it does); ours connects to the
 * checked address only.
 *
 * <p>Redirects: an allowed server answers every 3xx to loopback (127.0.0.2, [::1], localhost, a numeric
 * spelling, the rebinding name) and to 169.254.169.254; neither channel follows one, and a trap on every
 * local address on the redirect port gets nothing (a client that follows redirects, the control, does reach
 * it). International host names are checked in their ASCII form.
 */
class SsrfRebindingTest {
  private static final String REBIND = "rebind.example";
  private Vertx vertx;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx(new VertxOptions().setAddressResolverOptions(new AddressResolverOptions()
        .setHostsValue(Buffer.buffer("127.0.0.2 " + REBIND + "\n"))));
  }

  @AfterEach
  void stop() {
    NotifyVerticleTest.await(vertx.close());
  }

  private static Delivery delivery(String url) {
    return new Delivery("d-1", "n-1", "u-1", "webhook", url, "n-1:webhook", "Title", "Body", null, "medium", 1,
        "data_sync_status", null, "Title", "Body", new JsonObject(), OffsetDateTime.now());
  }

  private static Throwable refusal(Vertx vertx, SsrfGuard guard, String url) {
    return guard.check(vertx, url).toCompletionStage().toCompletableFuture().handle((ok, error) -> error).join();
  }

  @Test
  void aRebindingNameIsResolvedOnceAndTheConnectionGoesToTheCheckedAddress() throws Exception {
    AtomicInteger served = new AtomicInteger();
    List<String> hosts = new CopyOnWriteArrayList<>();
    HttpServer good = NotifyVerticleTest.await(vertx.createHttpServer().requestHandler(request -> {
      served.incrementAndGet();
      hosts.add(request.getHeader("Host") + " " + request.connection().localAddress().hostAddress());
      request.response().setStatusCode(204).end();
    }).listen(0, "127.0.0.1"));
    int port = good.actualPort();
    AtomicInteger trapped = new AtomicInteger();
    NetServer trap = NotifyVerticleTest.await(vertx.createNetServer().connectHandler(socket -> {
      trapped.incrementAndGet();
      socket.close();
    }).listen(port, "127.0.0.2"));
    HttpClient client = vertx.createHttpClient();
    String url = "http://" + REBIND + ":" + port + "/in";

    // the control: a client left to resolve the name itself lands on the trap
    NotifyVerticleTest.await(client.request(new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(url))
        .compose(request -> request.send()).map(HttpClientResponse::statusCode).otherwise(-1));
    NotifyVerticleTest.eventually("the unpinned client reaches the trap", () -> trapped.get() == 1, Duration.ofSeconds(5));
    trapped.set(0);

    AtomicInteger lookups = new AtomicInteger();
    InetAddress checked = InetAddress.getByName("127.0.0.1");
    InetAddress rebound = InetAddress.getByName("127.0.0.2");
    // odd lookups answer the allowed address, even ones the private one: a second lookup would be caught
    SsrfGuard guard = new SsrfGuard(false, Set.of("127.0.0.1:" + port),
        host -> lookups.incrementAndGet() % 2 == 1 ? List.of(checked) : List.of(rebound));
    WebhookChannel channel = new WebhookChannel(vertx, client, guard, 5_000);
    for (int i = 0; i < 20; i++) {
      SendOutcome outcome = NotifyVerticleTest.await(channel.send(delivery(url), StandardWebhooks.newSecret()));
      assertThat(outcome.kind()).as(String.valueOf(outcome.error())).isEqualTo(SendOutcome.Kind.SENT);
      // the rebound answer, had it been asked for, is refused
      assertThat(refusal(vertx, guard, url)).isInstanceOf(SsrfGuard.Refused.class);
    }
    assertThat(served.get()).isEqualTo(20);
    assertThat(hosts).as("the name is sent as Host, the checked address connected").containsOnly(
        REBIND + ":" + port + " 127.0.0.1");
    assertThat(lookups.get()).as("one lookup per delivery, one per check").isEqualTo(40);
    assertThat(trapped.get()).as("connections to the rebound address").isZero();
    NotifyVerticleTest.await(trap.close());
  }

  /** Where the redirector sends each path; every one is on this machine's trap port or a metadata address. */
  static Map<String, String> redirectTargets(int trapPort) {
    String p = ":" + trapPort;
    Map<String, String> targets = new LinkedHashMap<>();
    targets.put("/302-v4", "http://127.0.0.2" + p + "/");
    targets.put("/302-v6", "http://[::1]" + p + "/");
    targets.put("/302-metadata", "http://169.254.169.254/latest/meta-data/iam/security-credentials/");
    targets.put("/301-localhost", "http://localhost" + p + "/");
    targets.put("/303-hex", "http://0x7f000002" + p + "/");
    targets.put("/307-rebind", "http://" + REBIND + p + "/");
    targets.put("/308-mapped", "http://[::ffff:127.0.0.2]" + p + "/");
    targets.put("/302-https", "https://127.0.0.2" + p + "/");
    return targets;
  }

  @Test
  void redirectsFromAnAllowedServerToLoopbackOrMetadataAreNeverFollowed() throws Exception {
    AtomicInteger trapped = new AtomicInteger();
    NetServer trap = vertx.createNetServer().connectHandler(socket -> {
      trapped.incrementAndGet();
      socket.close();
    });
    try {
      NotifyVerticleTest.await(trap.listen(0, "::")); // every local address, IPv4 ones included
    } catch (RuntimeException noIpv6) {
      NotifyVerticleTest.await(trap.listen(0, "0.0.0.0"));
    }
    Map<String, String> targets = redirectTargets(trap.actualPort());
    AtomicInteger asked = new AtomicInteger();
    HttpServer redirector = NotifyVerticleTest.await(vertx.createHttpServer().requestHandler(request -> {
      asked.incrementAndGet();
      String path = request.path().replace("/push", "");
      request.response().setStatusCode(Integer.parseInt(path.substring(1, 4)))
          .putHeader("Location", targets.get(path)).end();
    }).listen(0, "127.0.0.1"));
    int port = redirector.actualPort();
    HttpClient client = vertx.createHttpClient();

    // the control: a client that follows redirects is taken to the trap
    NotifyVerticleTest.await(client.request(new RequestOptions().setMethod(HttpMethod.GET)
            .setAbsoluteURI("http://127.0.0.1:" + port + "/302-v4").setFollowRedirects(true))
        .compose(request -> request.send()).map(HttpClientResponse::statusCode).otherwise(-1));
    NotifyVerticleTest.eventually("a following client reaches the trap", () -> trapped.get() == 1, Duration.ofSeconds(5));
    trapped.set(0);
    asked.set(0);

    // the rebinding name resolves for the guard as it does for Vert.x: to the trap's address
    SsrfGuard guard = new SsrfGuard(false, Set.of("127.0.0.1:" + port), host -> host.equals(REBIND)
        ? List.of(InetAddress.getByName("127.0.0.2")) : List.of(InetAddress.getAllByName(host)));
    WebhookChannel webhooks = new WebhookChannel(vertx, client, guard, 5_000);
    PushChannel push = new PushChannel(vertx, client, guard, WebPush.Vapid.generate("mailto:ops@example.com"), 60, 5_000);
    java.security.KeyPair keys = WebPush.newKeyPair();
    String p256dh = Receivers.b64url(WebPush.encodePoint((java.security.interfaces.ECPublicKey) keys.getPublic()));
    String auth = Receivers.b64url(new byte[16]);
    List<String> outcomes = new ArrayList<>();
    for (String path : targets.keySet()) {
      String url = "http://127.0.0.1:" + port + path;
      SendOutcome hook = NotifyVerticleTest.await(webhooks.send(delivery(url), StandardWebhooks.newSecret()));
      assertThat(hook.kind()).as(path).isEqualTo(SendOutcome.Kind.RETRY);
      assertThat(hook.error()).as(path).contains("redirects are not followed");
      SendOutcome pushed = NotifyVerticleTest.await(push.send(delivery(url + "/push"),
          new PushSubscription(url + "/push", p256dh, auth)));
      assertThat(pushed.kind()).as(path).isNotEqualTo(SendOutcome.Kind.SENT);
      assertThat(pushed.error()).as(path).startsWith("HTTP " + path.substring(1, 4));
      outcomes.add(path + " " + hook.error() + " / " + pushed.error());
      // and the place it points to, given directly, is refused before any connection
      assertThat(refusal(vertx, guard, targets.get(path))).as(targets.get(path)).isInstanceOf(SsrfGuard.Refused.class);
    }
    assertThat(asked.get()).as("one request per send, none repeated: " + outcomes).isEqualTo(2 * targets.size());
    assertThat(trapped.get()).as("connections to the redirect targets").isZero();
  }

  /** Hosts spelled with non-ASCII characters that normalise to private addresses or internal names. */
  static List<String> internationalUrls() {
    return List.of(
        "http://\u24db\u24de\u24d2\u24d0\u24db\u24d7\u24de\u24e2\u24e3/",      // circled "localhost"
        "http://\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54/",      // fullwidth "localhost"
        "http://\uff11\uff12\uff17.\uff10.\uff10.\uff11/",                     // fullwidth 127.0.0.1
        "http://127\u30020\u30020\u30021/",                                    // ideographic full stops
        "http://\u2476\u2468\u3002\u2461\u2464\u2463\u3002\u2476\u2468\u3002\u2461\u2464\u2463/", // circled 169.254.169.254
        "http://metadata.google.internal\u3002/",
        "http://foo.\uff4c\uff4f\uff43\uff41\uff4c/",                          // *.local
        "http://127.0.0.1#@example.com/",
        "http://example.com\\@127.0.0.1/",
        "http://127.0.0.1:80@example.com/");
  }

  @Test
  void internationalSpellingsOfPrivateHostsAreRefused() {
    SsrfGuard guard = new SsrfGuard(false, Set.of(), host -> List.of(InetAddress.getByName("93.184.216.34")));
    for (String url : internationalUrls()) {
      assertThat(refusal(vertx, guard, url)).as(url).isInstanceOf(SsrfGuard.Refused.class);
    }
    // a genuine international name passes, in its ASCII form
    SsrfGuard.Target target = NotifyVerticleTest.await(guard.check(vertx, "https://b\u00fccher.example/hook"));
    assertThat(target.host()).isEqualTo("xn--bcher-kva.example");
  }
}
