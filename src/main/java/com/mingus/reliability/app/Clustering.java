package com.mingus.reliability.app;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.mingus.reliability.cluster.ClusterIdentity;
import com.mingus.reliability.cluster.SecureHazelcast;
import com.mingus.reliability.config.ClusterSettings;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.nio.file.Path;
import java.util.List;

/**
 * The Hazelcast cluster manager built from configuration, with no XML: TCP-IP join over the configured
 * members (multicast and auto-detection off, so nodes never find strangers on the network), a member
 * timeout short enough that a killed node's cluster-wide locks and bus subscriptions go within seconds,
 * and Hazelcast's own logs through SLF4J; bound to the configured interface only.
 *
 * <p>A node belongs to the cluster by its {@link ClusterIdentity} (a certificate from the cluster CA), not by
 * the cluster name: every Hazelcast connection opens with a signed challenge-response
 * ({@link SecureHazelcast}), and the clustered event bus is mutual TLS. docs/cluster.md, "Security", says
 * what that does and does not protect.
 */
public final class Clustering {
  private Clustering() {}

  /**
   * A started Hazelcast member (blocking: it joins here) that talks only to members proving {@code identity}'s
   * CA, as a Vert.x cluster manager; Vert.x's close shuts it down.
   */
  public static HazelcastClusterManager clusterManager(ClusterSettings cluster, ClusterIdentity identity) {
    return SecureHazelcast.clusterManager(hazelcastConfig(cluster), identity);
  }

  /** The node's cluster identity: the configured CA, certificate and key, or the dev default's CA in CLUSTER_TLS_DIR. */
  public static ClusterIdentity identity(ClusterSettings cluster, Path dataDir) {
    Path devDir = cluster.tlsDir() != null ? Path.of(cluster.tlsDir()) : dataDir.resolve("cluster-tls");
    return ClusterIdentity.load(cluster.tlsCa(), cluster.tlsCert(), cluster.tlsKey(), devDir,
        List.of(cluster.host(), cluster.effectiveEventBusHost()));
  }

  /** The clustered event bus over mutual TLS: only a peer with a certificate from the cluster CA can connect or be reached. */
  public static EventBusOptions eventBusOptions(ClusterSettings cluster, ClusterIdentity identity) {
    return identity.secure(eventBusOptions(cluster));
  }

  public static Config hazelcastConfig(ClusterSettings cluster) {
    // Vert.x's defaults for its own maps (subscriptions, node infos, locks), then our network
    Config config = ConfigUtil.loadConfig();
    config.setClusterName(cluster.name());
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.setProperty("hazelcast.phone.home.enabled", "false");
    // Application.close() leaves the cluster in order; Hazelcast's own hook would leave before the verticles stop
    config.setProperty("hazelcast.shutdownhook.enabled", "false");
    long timeoutS = Math.max(1, cluster.memberTimeoutMs() / 1000);
    config.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    config.setProperty("hazelcast.max.no.heartbeat.seconds", Long.toString(timeoutS));
    config.setProperty("hazelcast.merge.first.run.delay.seconds", "5");
    config.setProperty("hazelcast.merge.next.run.delay.seconds", "5");
    // a member list with one address tries the next ports only as long as this
    config.setProperty("hazelcast.tcp.join.port.try.count", Integer.toString(cluster.portCount()));
    config.setProperty("hazelcast.wait.seconds.before.join", "0");

    NetworkConfig network = config.getNetworkConfig();
    network.setPort(cluster.port()).setPortAutoIncrement(true).setPortCount(cluster.portCount());
    if (cluster.host() != null) {
      // binds and announces this address (a name resolves here), and only it: not the wildcard address
      config.setProperty("hazelcast.local.localAddress", cluster.host());
      config.setProperty("hazelcast.socket.bind.any", "false");
      config.setProperty("hazelcast.socket.client.bind.any", "false");
    }
    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setConnectionTimeoutSeconds(2).getMembers().clear();
    for (ClusterSettings.Member member : cluster.members()) {
      join.getTcpIpConfig().addMember(member.address());
    }
    return config;
  }

  /** The event bus's interface and port, in plain TCP: {@link #eventBusOptions(ClusterSettings, ClusterIdentity)} secures it. */
  public static EventBusOptions eventBusOptions(ClusterSettings cluster) {
    EventBusOptions options = new EventBusOptions().setPort(cluster.eventBusPort());
    // EVENT_BUS_HOST, or Hazelcast's interface: bound and announced, never the wildcard address
    if (cluster.effectiveEventBusHost() != null) {
      options.setHost(cluster.effectiveEventBusHost());
    }
    return options;
  }
}
