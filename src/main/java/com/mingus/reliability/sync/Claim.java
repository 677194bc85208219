package com.mingus.reliability.sync;

import com.mingus.reliability.crypto.TokenCipher;
import java.time.OffsetDateTime;
import java.util.UUID;

/** A connection this node holds the lease for, with everything one sync needs. */
record Claim(
    String connectionId,
    UUID leaseToken,
    UUID syncId,
    String trigger,
    int priority,
    int attempt,
    String userId,
    String itemId,
    String institutionId,
    String institutionName,
    TokenCipher.Sealed token,
    String cursor,
    OffsetDateTime nextBalanceAt,
    OffsetDateTime lastSuccessAt,
    OffsetDateTime nextReconcileAt,
    /** When it was due: the schedule lag is its claim's time less this. */
    OffsetDateTime dueAt) {

  @Override
  public String toString() {
    return "Claim[" + connectionId + ", trigger=" + trigger + ", attempt=" + attempt + "]";
  }
}
