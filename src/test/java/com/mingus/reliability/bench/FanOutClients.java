package com.mingus.reliability.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The subscribers of {@link FeedFanOutBench}, in a JVM of their own so that the server's heap holds only the
 * server's side of each socket (and so that 10,000 client and 10,000 server sockets do not share one
 * process's file limit). Driven by lines on stdin, answering one line on stdout each:
 *
 * <pre>
 * connect PORT COUNT CHANGES TOKEN   opens COUNT sockets, each authenticates and waits for its snapshot
 *                                     -> ready COUNT CLIENT_HEAP_BYTES_PER_SOCKET CONNECT_MS
 * collect TIMEOUT_MS                 waits for COUNT x CHANGES deliveries
 *                                     -> result RECEIVED CLOSED P50_NS P99_NS LAST_P50_NS LAST_P99_NS LAST_MAX_NS CPU_NS
 * close                              closes every socket -> closed
 * </pre>
 *
 * Each change carries {@code "bench_seq":N} and {@code "bench_sent_ns":T}, T the server's {@code System.nanoTime()}
 * when it published the change; on Linux both JVMs read the same monotonic clock, so arrival minus T is the
 * delivery time. A socket reads frames as bytes and picks out the two numbers, so that the measurement
 * spends its CPU on the server. Sockets are spread over several local addresses (127.0.0.2...) so that
 * 10,000 of them, twice, never run out of ephemeral ports.
 */
public final class FanOutClients {
  private static final int LOCAL_ADDRESSES = 4;
  private static final byte[] SNAPSHOT = "{\"type\":\"snapshot\"".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] SEQ = "\"bench_seq\":".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] SENT = "\"bench_sent_ns\":".getBytes(StandardCharsets.US_ASCII);

  private final Vertx vertx = Vertx.vertx();
  private final List<WebSocketClient> clients = new ArrayList<>();
  private final List<WebSocket> sockets = new ArrayList<>();
  private final AtomicInteger snapshots = new AtomicInteger();
  private final AtomicInteger received = new AtomicInteger();
  private final AtomicInteger closed = new AtomicInteger();
  /** [change][socket]: delivery time in ns, 0 while not yet delivered. */
  private long[][] latency;
  private int count;
  private int changes;
  private long cpuAtConnect;

  private FanOutClients() {}

  public static void main(String[] args) throws Exception {
    FanOutClients self = new FanOutClients();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      String[] words = line.trim().split(" ");
      switch (words[0]) {
        case "connect" -> self.connect(Integer.parseInt(words[1]), Integer.parseInt(words[2]), Integer.parseInt(words[3]), words[4]);
        case "collect" -> self.collect(Long.parseLong(words[1]));
        case "close" -> self.close();
        case "quit" -> {
          self.vertx.close().await(30, TimeUnit.SECONDS);
          return;
        }
        default -> System.out.println("error unknown command " + words[0]);
      }
      System.out.flush();
    }
  }

  private void connect(int port, int count, int changes, String token) throws Exception {
    this.count = count;
    this.changes = changes;
    latency = new long[changes][count];
    snapshots.set(0);
    received.set(0);
    closed.set(0);
    long before = heapAfterGc();
    long started = System.nanoTime();
    for (int a = 0; a < LOCAL_ADDRESSES; a++) {
      // -Dbench.compress=true: offer permessage-deflate, as browsers do
      clients.add(vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(count + 10)
          .setLocalAddress("127.0.0." + (2 + a)).setConnectTimeout(60_000)
          .setTryUsePerMessageCompression(Boolean.getBoolean("bench.compress"))));
    }
    String auth = "{\"type\":\"auth\",\"token\":\"" + token + "\"}";
    List<Future<WebSocket>> batch = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int index = i;
      batch.add(clients.get(i % LOCAL_ADDRESSES).connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port)
              .setURI("/api/reliability/feed").setAllowOriginHeader(false))
          .onSuccess(ws -> {
            ws.handler(frame -> arrived(index, frame));
            ws.closeHandler(v -> closed.incrementAndGet());
            ws.writeTextMessage(auth);
          }));
      if (batch.size() == 250 || i == count - 1) {
        for (Future<WebSocket> opened : batch) {
          sockets.add(opened.await(60, TimeUnit.SECONDS));
        }
        batch.clear();
      }
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (snapshots.get() < count && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    if (snapshots.get() < count) {
      System.out.println("error only " + snapshots.get() + " of " + count + " snapshots arrived");
      return;
    }
    long connectMs = (System.nanoTime() - started) / 1_000_000;
    long after = heapAfterGc();
    cpuAtConnect = cpuNanos();
    System.out.println("ready " + count + " " + (after - before) / count + " " + connectMs);
  }

  private void arrived(int index, Buffer frame) {
    long now = System.nanoTime();
    if (startsWith(frame, SNAPSHOT)) {
      snapshots.incrementAndGet();
      return;
    }
    int seqAt = indexOf(frame, SEQ);
    int sentAt = indexOf(frame, SENT);
    if (seqAt < 0 || sentAt < 0) {
      return;
    }
    int seq = (int) number(frame, seqAt + SEQ.length);
    if (seq >= 0 && seq < changes && latency[seq][index] == 0) {
      latency[seq][index] = Math.max(1, now - number(frame, sentAt + SENT.length));
      received.incrementAndGet();
    }
  }

  private void collect(long timeoutMs) throws InterruptedException {
    long expected = (long) count * changes;
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    while (received.get() < expected && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    long cpu = cpuNanos() - cpuAtConnect;
    int got = received.get(); // read first: its increments publish the latencies written before them
    long[] all = new long[got];
    long[] last = new long[changes];
    int n = 0;
    for (int seq = 0; seq < changes; seq++) {
      for (int i = 0; i < count; i++) {
        long ns = latency[seq][i];
        if (ns > 0 && n < all.length) {
          all[n++] = ns;
        }
        last[seq] = ns == 0 ? Long.MAX_VALUE : Math.max(last[seq], ns);
      }
    }
    all = Arrays.copyOf(all, n);
    Arrays.sort(all);
    Arrays.sort(last);
    System.out.println("result " + got + " " + closed.get() + " " + pct(all, 50) + " " + pct(all, 99) + " "
        + pct(last, 50) + " " + pct(last, 99) + " " + last[last.length - 1] + " " + cpu);
  }

  private void close() throws Exception {
    for (WebSocket ws : sockets) {
      ws.close();
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (closed.get() < sockets.size() && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    for (WebSocketClient client : clients) {
      client.close().await(30, TimeUnit.SECONDS);
    }
    sockets.clear();
    clients.clear();
    latency = null;
    System.out.println("closed");
  }

  /**
   * Heap in use after a full GC, once it has settled: closed sockets are let go of a little after their close
   * handlers ran, so a measurement is repeated until two in a row agree within 1 MB (for at most 20 s).
   */
  static long heapAfterGc() throws InterruptedException {
    long previous = Long.MAX_VALUE;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (true) {
      System.gc();
      Thread.sleep(300);
      long used = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
      if (Math.abs(used - previous) < 1_000_000 || System.nanoTime() > deadline) {
        return Math.min(used, previous);
      }
      previous = used;
    }
  }

  static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
  }

  private static long pct(long[] sorted, int p) {
    return sorted.length == 0 ? -1 : sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
  }

  private static boolean startsWith(Buffer buffer, byte[] prefix) {
    if (buffer.length() < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (buffer.getByte(i) != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  private static int indexOf(Buffer buffer, byte[] key) {
    int end = buffer.length() - key.length;
    outer:
    for (int i = 0; i <= end; i++) {
      for (int j = 0; j < key.length; j++) {
        if (buffer.getByte(i + j) != key[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  private static long number(Buffer buffer, int at) {
    long value = 0;
    boolean negative = false;
    for (int i = at; i < buffer.length(); i++) {
      byte b = buffer.getByte(i);
      if (b == '-' && i == at) {
        negative = true;
      } else if (b >= '0' && b <= '9') {
        value = value * 10 + (b - '0');
      } else {
        break;
      }
    }
    return negative ? -value : value;
  }
}
