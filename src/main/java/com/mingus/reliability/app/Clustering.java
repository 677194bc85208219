package com.mingus.reliability.app;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.mingus.reliability.config.ClusterSettings;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

/**
 * The Hazelcast cluster manager built from configuration, with no XML: TCP-IP join over the configured
 * members (multicast and auto-detection off, so nodes never find strangers on the network), a member
 * timeout short enough that a killed node's cluster-wide locks and bus subscriptions go within seconds,
 * and Hazelcast's own logs through SLF4J.
 */
public final class Clustering {
  private Clustering() {}

  public static HazelcastClusterManager clusterManager(ClusterSettings cluster) {
    return new HazelcastClusterManager(hazelcastConfig(cluster));
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
      // binds and announces this address (a name resolves here); without it Hazelcast picks an interface
      config.setProperty("hazelcast.local.localAddress", cluster.host());
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

  public static EventBusOptions eventBusOptions(ClusterSettings cluster) {
    EventBusOptions options = new EventBusOptions().setPort(cluster.eventBusPort());
    // unset, Vert.x uses the address Hazelcast announces, which the other members can reach
    if (cluster.eventBusHost() != null) {
      options.setHost(cluster.eventBusHost());
    }
    return options;
  }
}
