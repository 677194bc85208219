package com.mingus.reliability.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/** The sync verticle's Plaid client has a connection for every concurrent sync, so a granted call never waits for one. */
class PlaidConnectionsTest {

  @Test
  void theSyncVerticlesPlaidClientHasAConnectionForEveryConcurrentSyncPlusRoomForRegistryCalls() {
    SyncSettings settings = SyncSettings.from(new JsonObject().put("max_concurrent", 32));
    JsonObject plaid = new JsonObject().put("base_url", "https://sandbox.plaid.com").put("max_connections", 16);

    assertThat(SyncVerticle.withRoomForEverySync(plaid, settings).getInteger("max_connections")).isEqualTo(40);
    assertThat(SyncVerticle.withRoomForEverySync(plaid.copy().put("max_connections", 64), settings)
        .getInteger("max_connections")).as("a larger configured pool stays").isEqualTo(64);
    assertThat(SyncVerticle.withRoomForEverySync(new JsonObject(), settings).getInteger("max_connections"))
        .as("unset: the default raised").isEqualTo(40);
    assertThat(plaid.getInteger("max_connections")).as("the shared config is not changed").isEqualTo(16);
  }
}
