package com.mingus.reliability.plaid;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.Json;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.Locale;

/**
 * The same comparison as {@link SyncPageParseBenchmark}, measured in thread CPU time instead of wall time,
 * with ours and the peer interleaved in small batches: on a machine shared with other work, wall time
 * mostly measures the neighbours, CPU time much less so. Prints the median CPU time per page over many
 * batches and the ratio.
 *
 * <p>Run: {@code java -cp target/test-classes:target/classes:$(cat target/cp.txt) com.mingus.reliability.plaid.SyncPageParseCpu [batches]}
 */
public final class SyncPageParseCpu {
  private SyncPageParseCpu() {}

  private static Object sink;

  public static void main(String[] args) {
    int batches = args.length > 0 ? Integer.parseInt(args[0]) : 400;
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    for (int size : new int[] {100, 500}) {
      Buffer page = SyncPageParseBenchmark.page(size);
      int perBatch = size == 100 ? 20 : 4;
      // warm-up: let the JIT compile both paths
      for (int i = 0; i < 3_000 / perBatch * perBatch; i++) {
        sink = PlaidClient.syncPage(PlaidClient.parseObject(page));
        sink = Json.decodeValue(page);
      }
      double[] ours = new double[batches];
      double[] peer = new double[batches];
      for (int b = 0; b < batches; b++) {
        long start = threads.getCurrentThreadCpuTime();
        for (int i = 0; i < perBatch; i++) {
          sink = PlaidClient.syncPage(PlaidClient.parseObject(page));
        }
        long middle = threads.getCurrentThreadCpuTime();
        for (int i = 0; i < perBatch; i++) {
          sink = Json.decodeValue(page);
        }
        long end = threads.getCurrentThreadCpuTime();
        ours[b] = (middle - start) / 1e3 / perBatch;
        peer[b] = (end - middle) / 1e3 / perBatch;
      }
      double oursMedian = median(ours);
      double peerMedian = median(peer);
      System.out.printf(Locale.ROOT, "%d transactions (%d bytes): ours %.1f us CPU/page, peer (decode only) %.1f us CPU/page, ratio %.2f%n",
          size, page.length(), oursMedian, peerMedian, oursMedian / peerMedian);
    }
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }
}
