package com.mingus.reliability.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mingus.reliability.testsupport.PlaidSchema;
import com.mingus.reliability.testsupport.PlaidSchemaNulls;
import org.junit.jupiter.api.Test;

/** The schema helper itself: it must reject what Plaid's schema rejects, or the fidelity tests prove nothing. */
class PlaidSchemaTest {

  @Test
  void aPlaidErrorWithItsRequiredFieldsValidates() {
    assertThat(PlaidSchema.violations("PlaidError", """
        {"error_type":"ITEM_ERROR","error_code":"ITEM_LOGIN_REQUIRED","error_message":"x","display_message":null,"request_id":"abc"}
        """)).isEmpty();
  }

  @Test
  void aPlaidErrorWithoutItsCodeOrWithAWrongTypeIsRejected() {
    assertThat(PlaidSchema.violations("PlaidError", """
        {"error_type":"ITEM_ERROR","error_message":"x","display_message":null}
        """)).anyMatch(v -> v.contains("error_code"));
    assertThat(PlaidSchema.violations("PlaidError", """
        {"error_type":"NOT_A_TYPE","error_code":"X","error_message":"x","display_message":null}
        """)).isNotEmpty();
  }

  @Test
  void nullIsAcceptedOnlyWhereTheSchemaSaysNullable() {
    String base = """
        {"transactions_update_status":"HISTORICAL_UPDATE_COMPLETE","accounts":[],"added":[],"modified":[],"removed":[],
         "next_cursor":%s,"has_more":false,"request_id":"r"}
        """;
    assertThat(PlaidSchema.violations("TransactionsSyncResponse", base.formatted("\"c\""))).isEmpty();
    assertThatThrownBy(() -> PlaidSchema.assertValid("TransactionsSyncResponse", base.formatted("null")))
        .isInstanceOf(AssertionError.class).hasMessageContaining("next_cursor");
    assertThat(PlaidSchema.violations("AccountBalance", """
        {"available":null,"current":1.5,"limit":null,"iso_currency_code":"USD","unofficial_currency_code":null}
        """)).isEmpty();
  }

  @Test
  void anItemsLastWebhookMayBeNullButOncePresentItsCodeSentIsAString() {
    String response = """
        {"item":{"item_id":"i","webhook":null,"error":null,"available_products":[],"billed_products":[],
                 "consent_expiration_time":null,"update_type":"background"},
         "status":{"transactions":null,"last_webhook":%s},"request_id":"r"}
        """;
    assertThat(PlaidSchema.violations("ItemGetResponse", response.formatted("null"))).isEmpty();
    assertThat(PlaidSchema.violations("ItemGetResponse",
        response.formatted("{\"sent_at\":\"2026-11-27T10:00:00Z\",\"code_sent\":\"ERROR\"}"))).isEmpty();
    assertThat(PlaidSchemaNulls.violations("ItemGetResponse", response.formatted("null"))).isEmpty();
    // the validator lets a null through inside a nullable object (here ItemStatusLastWebhook); the null walk does not
    String nullCode = response.formatted("{\"sent_at\":null,\"code_sent\":null}");
    assertThat(PlaidSchema.violations("ItemGetResponse", nullCode)).isEmpty();
    assertThat(PlaidSchemaNulls.violations("ItemGetResponse", nullCode)).containsExactly("/status/last_webhook/code_sent: null, not nullable");
  }

  @Test
  void theNullWalkAllowsNullExactlyWhereTheSchemaSaysNullable() {
    String base = """
        {"transactions_update_status":"HISTORICAL_UPDATE_COMPLETE","accounts":[],"added":[],"modified":[],"removed":[],
         "next_cursor":%s,"has_more":false,"request_id":"r"}
        """;
    assertThat(PlaidSchemaNulls.violations("TransactionsSyncResponse", base.formatted("null")))
        .containsExactly("/next_cursor: null, not nullable");
    assertThat(PlaidSchemaNulls.violations("AccountBalance", """
        {"available":null,"current":1.5,"limit":null,"iso_currency_code":"USD","unofficial_currency_code":null}
        """)).isEmpty();
    assertThat(PlaidSchemaNulls.violations("TransactionsSyncResponse", """
        {"accounts":[],"modified":[],"removed":[],"next_cursor":"c","has_more":false,"request_id":"r",
         "added":[{"transaction_id":null,"account_id":"a","amount":1.0,"iso_currency_code":null,"date":"2026-01-01","pending":false}]}
        """)).containsExactly("/added/0/transaction_id: null, not nullable");
  }

  @Test
  void nestedReferencesAndAllOfPartsAreChecked() {
    String response = """
        {"transactions_update_status":"HISTORICAL_UPDATE_COMPLETE","accounts":[],"modified":[],"removed":[],
         "next_cursor":"c","has_more":false,"request_id":"r",
         "added":[{"transaction_id":"t","account_id":"a","amount":1.0,"iso_currency_code":"USD",
                   "unofficial_currency_code":null,"date":"2026-01-01","pending":false}]}
        """;
    // payment_channel, location, ... are required by the second part of Transaction's allOf
    assertThat(PlaidSchema.violations("TransactionsSyncResponse", response))
        .anyMatch(v -> v.contains("payment_channel"));
  }
}
