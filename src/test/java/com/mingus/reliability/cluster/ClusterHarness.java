package com.mingus.reliability.cluster;

import com.mingus.reliability.app.Application;
import com.mingus.reliability.app.Clustering;
import com.mingus.reliability.bus.MessageCodecs;
import com.mingus.reliability.cluster.ClusterIdentity;
import com.mingus.reliability.cluster.SecureHazelcast;
import com.mingus.reliability.config.ClusterSettings;
import com.mingus.reliability.config.ConfigLoader;
import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.config.Settings;
import com.mingus.reliability.sandbox.SandboxVerticle;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.SandboxControl;
import com.mingus.reliability.testsupport.TestApp;
import com.mingus.reliability.testsupport.TestDatabase;
import com.hazelcast.config.Config;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cluster on loopback: N nodes, each the real main class in its own JVM with CLUSTER=true, against one
 * PostgreSQL (the test's embedded server) and one Plaid sandbox that lives in the test JVM (so it, and its
 * ground truth and request counts, survive any node's death). The test JVM also joins the cluster as a
 * Hazelcast lite member: it holds no cluster data, and it can ask the nodes over the clustered bus and
 * watch their published events. Nodes are killed with SIGKILL and restarted on the same ports.
 */
public final class ClusterHarness implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ClusterHarness.class);
  static final String JWT_SECRET = "cluster-harness-jwt-secret-0123456789abcdef";

  public final DatabaseTarget db;
  public final SandboxControl sandbox;
  public final int sandboxPort;
  /** The test JVM's own clustered Vert.x: a lite member, no verticles; joins once the first node is up. */
  public Vertx bus;
  private final Vertx sandboxVertx;
  private final String clusterName;
  private final int[] clusterPorts;
  private final int[] httpPorts;
  private final Process[] processes;
  private final Path[] logs;
  private final Path configFile;
  private final Path logDir;
  private final Map<String, String> extraEnv;
  private final int testMemberPort;
  private final java.util.Set<Integer> up = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private ClusterHarness(String clusterName, DatabaseTarget db, Vertx sandboxVertx, int sandboxPort, Vertx bus, int nodes,
      Path configFile, Path logDir, Map<String, String> extraEnv, int testMemberPort, int[] clusterPorts) {
    this.clusterName = clusterName;
    this.db = db;
    this.sandboxVertx = sandboxVertx;
    this.sandboxPort = sandboxPort;
    this.sandbox = new SandboxControl(sandboxPort);
    this.bus = bus;
    this.clusterPorts = clusterPorts;
    this.httpPorts = new int[nodes];
    this.processes = new Process[nodes];
    this.logs = new Path[nodes];
    this.configFile = configFile;
    this.logDir = logDir;
    this.extraEnv = extraEnv;
    this.testMemberPort = testMemberPort;
    for (int i = 0; i < nodes; i++) {
      httpPorts[i] = freePort();
    }
  }

  /**
   * Starts the sandbox and the test's lite member; the nodes start with {@link #startNode} or
   * {@link #startAll}. {@code config} is merged over the nodes' bundled defaults (a CONFIG_FILE);
   * {@code sandboxConfig} over the sandbox's section of conf/config.json.
   */
  public static ClusterHarness create(String name, int nodes, JsonObject config, JsonObject sandboxConfig,
      Map<String, String> extraEnv) {
    DatabaseTarget db = TestDatabase.fresh(name);
    Vertx sandboxVertx = Vertx.vertx();
    JsonObject sandboxSection = ConfigLoader.bundledDefaults().getJsonObject("sandbox").copy()
        .put("port", 0).mergeIn(sandboxConfig, true);
    SandboxVerticle verticle = new SandboxVerticle();
    Await.result(sandboxVertx.deployVerticle(verticle, new DeploymentOptions().setConfig(sandboxSection)));
    int sandboxPort = verticle.port();
    try {
      Path logDir = Files.createDirectories(Path.of("target", "cluster-logs", name + "-" + System.currentTimeMillis()));
      Path configFile = logDir.resolve("config.json");
      JsonObject nodeConfig = config.copy();
      Files.writeString(configFile, nodeConfig.encodePrettily());
      int[] clusterPorts = new int[nodes];
      for (int i = 0; i < nodes; i++) {
        clusterPorts[i] = freePort();
      }
      int testMemberPort = freePort();
      String clusterName = "mingus-test-" + UUID.randomUUID().toString().substring(0, 8);
      // the dev default's cluster CA, shared by every node and the test member (each node has its own DATA_DIR)
      Map<String, String> env = new HashMap<>();
      env.put("CLUSTER_TLS_DIR", logDir.resolve("cluster-tls").toAbsolutePath().toString());
      env.putAll(extraEnv);
      ClusterHarness harness = new ClusterHarness(clusterName, db, sandboxVertx, sandboxPort, null, nodes, configFile, logDir,
          env, testMemberPort, clusterPorts);
      log.info("Cluster harness {}: sandbox on {}, logs in {}", name, sandboxPort, logDir.toAbsolutePath());
      return harness;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Vertx joinAsLiteMember(Map<String, String> env) {
    ClusterSettings cluster = clusterSettings(env);
    Config config = Clustering.hazelcastConfig(cluster).setLiteMember(true);
    ClusterIdentity identity = Clustering.identity(cluster, Path.of(cluster.tlsDir()));
    Vertx vertx = Await.result(Vertx.builder()
        .with(new VertxOptions().setEventBusOptions(Clustering.eventBusOptions(cluster, identity)))
        .withClusterManager(SecureHazelcast.clusterManager(config, identity)).buildClustered(), Duration.ofSeconds(60));
    MessageCodecs.register(vertx.eventBus());
    return vertx;
  }

  /** The cluster settings of a set of CLUSTER_* variables (with the secrets a cluster requires). */
  static ClusterSettings clusterSettings(Map<String, String> clusterEnv) {
    Map<String, String> env = new HashMap<>(clusterEnv);
    env.put("MINGUS_JWT_SECRET", JWT_SECRET);
    env.put("TOKEN_ENCRYPTION_KEYS", TestApp.TEST_KEYS);
    return Settings.fromOverrides(env).clustering();
  }

  private static Map<String, String> clusterEnv(String clusterName, int[] clusterPorts, int testMemberPort, int ownPort) {
    Map<String, String> env = new HashMap<>();
    env.put("CLUSTER", "true");
    env.put("CLUSTER_NAME", clusterName);
    env.put("CLUSTER_HOST", "127.0.0.1");
    env.put("CLUSTER_PORT", Integer.toString(ownPort));
    env.put("CLUSTER_PORT_COUNT", "1");
    List<String> members = new ArrayList<>();
    for (int port : clusterPorts) {
      members.add("127.0.0.1:" + port);
    }
    members.add("127.0.0.1:" + testMemberPort);
    env.put("CLUSTER_MEMBERS", String.join(",", members));
    env.put("EVENT_BUS_HOST", "127.0.0.1");
    env.put("EVENT_BUS_PORT", "0");
    return env;
  }

  public int nodes() {
    return processes.length;
  }

  public int httpPort(int node) {
    return httpPorts[node];
  }

  public boolean alive(int node) {
    return processes[node] != null && processes[node].isAlive();
  }

  public Path log(int node) {
    return logs[node];
  }

  /** Starts every node at once and waits until each answers its health endpoint. */
  public void startAll() {
    for (int i = 0; i < processes.length; i++) {
      launch(i);
    }
    for (int i = 0; i < processes.length; i++) {
      awaitUp(i, Duration.ofSeconds(120));
    }
    joinTestMember();
  }

  /** A lite member cannot form a cluster alone (Vert.x writes its node info into a map), so it joins late. */
  private void joinTestMember() {
    if (bus == null) {
      Map<String, String> env = clusterEnv(clusterName, clusterPorts, testMemberPort, testMemberPort);
      env.put("CLUSTER_TLS_DIR", extraEnv.get("CLUSTER_TLS_DIR"));
      bus = joinAsLiteMember(env);
    }
  }

  /** Starts (or restarts) one node and waits until it answers its health endpoint. */
  public void startNode(int node) {
    launch(node);
    awaitUp(node, Duration.ofSeconds(120));
    joinTestMember();
  }

  /** Starts (or restarts) one node without waiting. */
  public void launch(int node) {
    launch(node, Map.of());
  }

  /**
   * Starts (or restarts) one node without waiting, with {@code overrides} over the harness's variables. Its crash
   * points start disarmed: {@link #arm} plans a death at one of them.
   */
  public void launch(int node, Map<String, String> overrides) {
    disarm(node);
    String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    logs[node] = logDir.resolve("node-" + node + "-" + System.currentTimeMillis() + ".log");
    ProcessBuilder builder = new ProcessBuilder(java, "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-Dmingus.test.logdir=" + logDir.toAbsolutePath(), "-cp", System.getProperty("java.class.path"),
        Application.class.getName()).redirectErrorStream(true).redirectOutput(logs[node].toFile());
    Map<String, String> env = builder.environment();
    env.put("DATABASE_URL", TestDatabase.url(db));
    env.put("PLAID_BASE_URL", "http://127.0.0.1:" + sandboxPort);
    JsonObject sandboxDefaults = ConfigLoader.bundledDefaults().getJsonObject("sandbox");
    env.put("PLAID_CLIENT_ID", sandboxDefaults.getString("client_id"));
    env.put("PLAID_SECRET", sandboxDefaults.getString("secret"));
    env.put("TOKEN_ENCRYPTION_KEYS", TestApp.TEST_KEYS);
    env.put("MINGUS_JWT_SECRET", JWT_SECRET);
    env.put("HTTP_PORT", Integer.toString(httpPorts[node]));
    env.put("HTTP_HOST", "127.0.0.1");
    env.put("MINGUS_DEMO", "false");
    env.put("DATA_DIR", logDir.resolve("data-" + node).toString());
    env.put("CONFIG_FILE", configFile.toAbsolutePath().toString());
    env.putAll(clusterEnv(clusterName, clusterPorts, testMemberPort, clusterPorts[node]));
    env.putAll(extraEnv);
    env.put("MINGUS_CRASH_FILE", crashFile(node).toAbsolutePath().toString());
    env.putAll(overrides);
    try {
      processes[node] = builder.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    log.info("Node {} launched (pid {}, HTTP {}, Hazelcast {})", node, processes[node].pid(), httpPorts[node],
        clusterPorts[node]);
  }

  /** Waits until the node's health endpoint answers 200. */
  public void awaitUp(int node, Duration timeout) {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!processes[node].isAlive()) {
        throw new AssertionError("node " + node + " exited with " + processes[node].exitValue() + "; see " + logs[node]);
      }
      try {
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + httpPorts[node] + "/api/reliability/health"))
            .timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 200) {
          up.add(node);
          return;
        }
      } catch (IOException e) {
        // not listening yet
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted");
      }
      pause(250);
    }
    throw new AssertionError("node " + node + " did not come up within " + timeout.toSeconds() + " s; see " + logs[node]);
  }

  private Path crashFile(int node) {
    return logDir.resolve("crash-" + node);
  }

  /**
   * Plans the node's death at a crash point ({@code point:n}, see chaos/CrashPoints): the running node
   * reads the file within 100 ms and halts, as a SIGKILL would, at the n-th arrival after that.
   */
  public void arm(int node, String spec) {
    try {
      Files.writeString(crashFile(node), spec);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Takes back any planned death of the node. */
  public void disarm(int node) {
    arm(node, "");
  }

  /** Waits for the node's process to end by itself; true when it did within the timeout. */
  public boolean awaitExit(int node, Duration timeout) {
    Process process = processes[node];
    try {
      if (process != null && process.waitFor(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
        up.remove(node);
        return true;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return false;
  }

  /** The exit code of a node that ended, or -1 while it runs. */
  public int exitCode(int node) {
    Process process = processes[node];
    return process == null || process.isAlive() ? -1 : process.exitValue();
  }

  /** SIGKILL: no shutdown hook, no lease released, no goodbye to the cluster. */
  public void kill(int node) {
    Process process = processes[node];
    if (process == null) {
      return;
    }
    up.remove(node);
    process.destroyForcibly();
    try {
      process.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    log.info("Node {} killed (pid {})", node, process.pid());
  }

  /** The nodes that are running and have answered their health endpoint since they last started. */
  public List<Integer> upNodes() {
    List<Integer> live = new ArrayList<>();
    for (int i = 0; i < processes.length; i++) {
      if (alive(i) && up.contains(i)) {
        live.add(i);
      }
    }
    return live;
  }

  @Override
  public void close() {
    // the lite member leaves first: alone in a cluster it can reach no data member and complains
    try {
      if (bus != null) {
        Await.result(bus.close(), Duration.ofSeconds(20));
      }
    } catch (AssertionError e) {
      log.warn("The test member did not leave cleanly: {}", e.getMessage());
    }
    for (int i = 0; i < processes.length; i++) {
      if (processes[i] != null && processes[i].isAlive()) {
        processes[i].destroy();
      }
    }
    for (int i = 0; i < processes.length; i++) {
      if (processes[i] != null) {
        try {
          if (!processes[i].waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
            processes[i].destroyForcibly().waitFor();
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
    Await.result(sandboxVertx.close(), Duration.ofSeconds(20));
  }

  static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void pause(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted");
    }
  }

  static String describe(Map<String, ?> map) {
    return map.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(", "));
  }
}
