package com.mingus.reliability.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads {@link SoakBench}'s CSV and draws its four resource series (heap used and heap after GC, live
 * threads, open file descriptors, database sessions) over time as one SVG, in plain Java.
 *
 * <p>Run: {@code java -cp target/test-classes com.mingus.reliability.bench.SoakPlot target/bench/soak.csv
 * docs/bench/soak.svg}.
 */
public final class SoakPlot {
  private SoakPlot() {}

  public static void main(String[] args) throws IOException {
    write(Path.of(args.length > 0 ? args[0] : "target/bench/soak.csv"),
        Path.of(args.length > 1 ? args[1] : "docs/bench/soak.svg"));
  }

  /** The CSV's rows: column name to values (NaN where a cell is empty), with {@code t_s} as time. */
  public static final class Table {
    private final Map<String, double[]> columns = new HashMap<>();
    private final double[] time;
    private final String[] phases;

    Table(List<String> lines) {
      String[] header = lines.get(0).split(",");
      int rows = lines.size() - 1;
      phases = new String[rows];
      int phaseColumn = Arrays.asList(header).indexOf("phase");
      for (String name : header) {
        columns.put(name, new double[rows]);
      }
      for (int r = 0; r < rows; r++) {
        String[] cells = lines.get(r + 1).split(",", -1);
        phases[r] = phaseColumn >= 0 && phaseColumn < cells.length ? cells[phaseColumn] : "";
        for (int c = 0; c < header.length; c++) {
          double value;
          try {
            value = c < cells.length && !cells[c].isEmpty() ? Double.parseDouble(cells[c]) : Double.NaN;
          } catch (NumberFormatException e) {
            value = Double.NaN;
          }
          columns.get(header[c])[r] = value;
        }
      }
      time = columns.get("t_s");
    }

    /** The column's non-empty values with {@code from <= t <= to}. */
    public Points points(String column, double from, double to) {
      double[] values = columns.get(column);
      List<double[]> out = new ArrayList<>();
      if (values != null) {
        for (int i = 0; i < values.length; i++) {
          if (!Double.isNaN(values[i]) && values[i] >= 0 && time[i] >= from && time[i] <= to) {
            out.add(new double[] {time[i], values[i]});
          }
        }
      }
      return new Points(out);
    }

    /** The time of the first row in the given phase, or NaN. */
    double firstTimeOf(String phase) {
      for (int i = 0; i < phases.length; i++) {
        if (phase.equals(phases[i])) {
          return time[i];
        }
      }
      return Double.NaN;
    }

    double lastTime() {
      return time.length == 0 ? 0 : time[time.length - 1];
    }
  }

  /** (t, value) pairs of one series. */
  public record Points(List<double[]> xy) {
    public int size() {
      return xy.size();
    }

    public double first() {
      return xy.isEmpty() ? Double.NaN : xy.get(0)[1];
    }

    public double last() {
      return xy.isEmpty() ? Double.NaN : xy.get(xy.size() - 1)[1];
    }

    public double max() {
      return xy.stream().mapToDouble(p -> p[1]).max().orElse(Double.NaN);
    }

    public double min() {
      return xy.stream().mapToDouble(p -> p[1]).min().orElse(Double.NaN);
    }

    public double median() {
      double[] v = xy.stream().mapToDouble(p -> p[1]).sorted().toArray();
      if (v.length == 0) {
        return Double.NaN;
      }
      return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /** Least-squares slope, per hour of t (seconds). */
    public double slopePerHour() {
      int n = xy.size();
      if (n < 2) {
        return Double.NaN;
      }
      double mx = xy.stream().mapToDouble(p -> p[0]).average().orElseThrow();
      double my = xy.stream().mapToDouble(p -> p[1]).average().orElseThrow();
      double sxy = 0;
      double sxx = 0;
      for (double[] p : xy) {
        sxy += (p[0] - mx) * (p[1] - my);
        sxx += (p[0] - mx) * (p[0] - mx);
      }
      return sxx == 0 ? 0 : sxy / sxx * 3600;
    }
  }

  public static Table read(Path csv) throws IOException {
    return new Table(Files.readAllLines(csv, StandardCharsets.UTF_8));
  }

  private record Panel(String title, String[] columns, String[] colours, String[] labels) {}

  private static final List<Panel> PANELS = List.of(
      new Panel("Heap (MB)", new String[] {"heap_used_mb", "heap_after_gc_mb"}, new String[] {"#9ab", "#c33"},
          new String[] {"used", "after a full GC, once a minute"}),
      new Panel("Live threads", new String[] {"threads"}, new String[] {"#36c"}, new String[] {"ThreadMXBean"}),
      new Panel("Open file descriptors", new String[] {"fds"}, new String[] {"#393"},
          new String[] {"/proc/self/fd (1,000 feed sockets each end in this JVM)"}),
      new Panel("Database sessions", new String[] {"db_connections", "db_active"}, new String[] {"#a6c", "#e90"},
          new String[] {"pg_stat_activity (sampler's own included)", "of them active"}));

  public static void write(Path csv, Path svg) throws IOException {
    Table table = read(csv);
    double end = Math.max(1, table.lastTime());
    double settle = table.firstTimeOf("settle");
    int width = 900;
    int panelHeight = 200;
    int left = 70;
    int right = 20;
    int top = 40;
    int gap = 50;
    int height = top + PANELS.size() * (panelHeight + gap);
    StringBuilder s = new StringBuilder();
    s.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
        + "font-family=\"sans-serif\" font-size=\"12\">%n", width, height));
    s.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", width, height));
    s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"22\" font-size=\"15\" font-weight=\"bold\">SoakBench: "
        + "%.0f min of faults, then settling (x: minutes since the soak began)</text>%n", left,
        Double.isNaN(settle) ? end / 60 : settle / 60));
    for (int i = 0; i < PANELS.size(); i++) {
      Panel panel = PANELS.get(i);
      int y0 = top + i * (panelHeight + gap) + 20;
      double lo = Double.MAX_VALUE;
      double hi = -Double.MAX_VALUE;
      List<Points> series = new ArrayList<>();
      for (String column : panel.columns()) {
        Points p = table.points(column, 0, end);
        series.add(p);
        if (p.size() > 0) {
          lo = Math.min(lo, p.min());
          hi = Math.max(hi, p.max());
        }
      }
      if (lo > hi) {
        continue;
      }
      // from zero, so a flat line looks flat and a small wobble is not blown up into a slope
      lo = 0;
      hi = niceCeiling(hi * 1.1);
      int plotWidth = width - left - right;
      s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-weight=\"bold\">%s</text>%n", left, y0 - 6,
          panel.title()));
      s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
          + "stroke=\"#999\"/>%n", left, y0, plotWidth, panelHeight));
      for (int tick = 0; tick <= 4; tick++) {
        double v = lo + (hi - lo) * tick / 4;
        double y = y0 + panelHeight - panelHeight * tick / 4.0;
        s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#eee\"/>"
            + "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n", left, y, left + plotWidth, y, left - 6, y + 4,
            label(v)));
      }
      double minutes = end / 60;
      double step = minutes <= 10 ? 1 : minutes <= 30 ? 5 : 10;
      for (double m = 0; m <= minutes + 1e-9; m += step) {
        double x = left + plotWidth * (m * 60 / end);
        s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>%n", x,
            y0 + panelHeight + 15, label(m)));
      }
      if (!Double.isNaN(settle)) {
        double x = left + plotWidth * settle / end;
        s.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#666\" "
            + "stroke-dasharray=\"4,3\"/><text x=\"%.1f\" y=\"%d\" text-anchor=\"end\" fill=\"#666\">faults stop</text>%n",
            x, y0, x, y0 + panelHeight, x - 4, y0 + panelHeight - 6));
      }
      for (int k = 0; k < series.size(); k++) {
        Points p = series.get(k);
        StringBuilder path = new StringBuilder();
        for (double[] xy : p.xy()) {
          double x = left + plotWidth * xy[0] / end;
          double y = y0 + panelHeight - panelHeight * (xy[1] - lo) / (hi - lo);
          path.append(path.length() == 0 ? "M" : " L").append(String.format(Locale.ROOT, "%.1f,%.1f", x, y));
        }
        s.append(String.format(Locale.ROOT, "<path d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"/>%n",
            path, panel.colours()[k]));
        int lx = left + 10 + k * 380;
        s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"3\" fill=\"%s\"/>"
            + "<text x=\"%d\" y=\"%d\">%s (first %s, last %s, max %s)</text>%n", lx, y0 + 10, panel.colours()[k],
            lx + 16, y0 + 15, escape(panel.labels()[k]), label(p.first()), label(p.last()), label(p.max())));
      }
    }
    s.append("</svg>\n");
    Files.createDirectories(svg.toAbsolutePath().getParent());
    Files.writeString(svg, s.toString(), StandardCharsets.UTF_8);
  }

  private static double niceCeiling(double v) {
    if (v <= 0) {
      return 1;
    }
    double magnitude = Math.pow(10, Math.floor(Math.log10(v)));
    for (double f : new double[] {1, 2, 2.5, 5, 10}) {
      if (f * magnitude >= v) {
        return f * magnitude;
      }
    }
    return 10 * magnitude;
  }

  private static String label(double v) {
    return Math.abs(v - Math.rint(v)) < 1e-9 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.1f", v);
  }

  private static String escape(String text) {
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
