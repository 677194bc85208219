package com.mingus.reliability.testsupport;

import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.JsonNodePath;
import com.networknt.schema.PathType;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import com.networknt.schema.oas.OpenApi30;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Validates JSON against a component schema of Plaid's own OpenAPI file
 * ({@code src/test/resources/plaid/plaid-openapi-2020-09-14.yml}), with OpenAPI 3.0 semantics
 * ({@code nullable}). Use it for request bodies the client sends and responses the sandbox returns:
 * {@code PlaidSchema.assertValid("TransactionsSyncResponse", body)}.
 */
public final class PlaidSchema {
  private static final String DOCUMENT = "classpath:plaid/plaid-openapi-2020-09-14.yml";
  private static final JsonSchemaFactory FACTORY = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V4,
      builder -> builder.metaSchema(OpenApi30.getInstance()).defaultMetaSchemaIri(OpenApi30.getInstance().getIri()));
  private static final SchemaValidatorsConfig CONFIG = SchemaValidatorsConfig.builder()
      .pathType(PathType.JSON_POINTER)
      .build();
  private static final Map<String, JsonSchema> SCHEMAS = new ConcurrentHashMap<>();

  private PlaidSchema() {}

  /** The whole OpenAPI document, parsed on first use. */
  private static final class Document {
    static final JsonSchema ROOT = FACTORY.getSchema(SchemaLocation.of(DOCUMENT), CONFIG);
  }

  /** The violations of {@code json} against {@code #/components/schemas/<component>}; empty when valid. */
  public static List<String> violations(String component, String json) {
    JsonSchema schema = SCHEMAS.computeIfAbsent(component, name -> {
      // one parse of the 3 MB document; every component is a sub-schema of it, so $refs stay inside
      JsonSchema loaded = Document.ROOT.getSubSchema(new JsonNodePath(PathType.JSON_POINTER)
          .append("components").append("schemas").append(name));
      loaded.initializeValidators();
      return loaded;
    });
    return schema.validate(json, com.networknt.schema.InputFormat.JSON).stream()
        .map(ValidationMessage::toString)
        .toList();
  }

  /** Fails with every violation listed when {@code json} does not validate against the component. */
  public static void assertValid(String component, String json) {
    List<String> violations = violations(component, json);
    if (!violations.isEmpty()) {
      throw new AssertionError(component + " violated:\n  " + String.join("\n  ", violations) + "\nin: "
          + (json.length() > 2_000 ? json.substring(0, 2_000) + "..." : json));
    }
  }

  /** The schema names Plaid's error object and other shared parts go by. */
  public static final String PLAID_ERROR = "PlaidError";
}
