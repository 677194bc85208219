package com.mingus.reliability.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.SocketInterceptorConfig;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.instance.EndpointQualifier;
import com.hazelcast.instance.impl.DefaultNodeContext;
import com.hazelcast.instance.impl.DefaultNodeExtension;
import com.hazelcast.instance.impl.HazelcastInstanceFactory;
import com.hazelcast.instance.impl.Node;
import com.hazelcast.instance.impl.NodeExtension;
import com.hazelcast.nio.MemberSocketInterceptor;
import io.vertx.core.Completable;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Hazelcast member whose every connection, in and out, first passes the {@link MemberHandshake}.
 *
 * <p>Hazelcast open source has no member authentication of its own (security, TLS and socket
 * interceptors are Enterprise features: its stock node extension answers "SocketInterceptor feature is
 * only available on Hazelcast Enterprise!"). The hook exists in the open-source networking all the same:
 * the acceptor and the connector call the node extension's socket interceptor on the raw blocking socket
 * before the connection carries any Hazelcast protocol. So this member is built with a node context whose
 * node extension is the stock one plus our interceptor; Vert.x gets the running instance, and this cluster
 * manager shuts it down when Vert.x leaves (Vert.x leaves an instance it did not create running).
 */
public final class SecureHazelcast {
  private static final Logger log = LoggerFactory.getLogger(SecureHazelcast.class);

  private static final String NODE_ID_ATTRIBUTE = "__vertx.nodeId";

  private SecureHazelcast() {}

  /** Starts the member (blocking: it joins the cluster here) and hands it to a Vert.x cluster manager. */
  public static HazelcastClusterManager clusterManager(Config config, ClusterIdentity identity) {
    config.getNetworkConfig().setSocketInterceptorConfig(new SocketInterceptorConfig().setEnabled(true));
    // what Vert.x writes into the config of an instance it starts itself, and reads back from one it is given
    config.getMemberAttributeConfig().setAttribute(NODE_ID_ATTRIBUTE, UUID.randomUUID().toString());
    MemberHandshake handshake = new MemberHandshake(identity, config.getClusterName());
    String instanceName = config.getInstanceName() != null ? config.getInstanceName()
        : "mingus-" + UUID.randomUUID().toString().substring(0, 8);
    HazelcastInstance instance = HazelcastInstanceFactory.newHazelcastInstance(config, instanceName,
        new DefaultNodeContext() {
          @Override
          public NodeExtension createNodeExtension(Node node) {
            return new DefaultNodeExtension(node) {
              @Override
              public MemberSocketInterceptor getSocketInterceptor(EndpointQualifier qualifier) {
                return handshake;
              }
            };
          }
        });
    return new Owning(instance);
  }

  /** Vert.x's cluster manager over an instance it did not start, which it shuts down after leaving. */
  private static final class Owning extends HazelcastClusterManager {
    private final HazelcastInstance instance;

    Owning(HazelcastInstance instance) {
      super(instance);
      this.instance = instance;
    }

    @Override
    public void leave(Completable<Void> promise) {
      super.leave((result, failure) -> {
        // the shutdown blocks (migrations, goodbyes): never on the thread that completed the leave
        Thread shutdown = new Thread(() -> {
          try {
            if (instance.getLifecycleService().isRunning()) {
              instance.getLifecycleService().shutdown();
            }
          } catch (RuntimeException e) {
            log.warn("Hazelcast did not shut down cleanly: {}", e.getMessage());
          }
          promise.complete(result, failure);
        }, "hazelcast-shutdown");
        shutdown.setDaemon(true);
        shutdown.start();
      });
    }
  }
}
