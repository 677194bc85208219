package com.mingus.reliability.plaid;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.mingus.reliability.testsupport.PlaidSchema;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;

/**
 * Checks request bodies against {@code components/schemas/<Name>} of Plaid's OpenAPI file: the schema
 * itself through the shared {@link PlaidSchema} (networknt, OpenAPI 3.0 semantics), plus one check it
 * cannot make: Plaid's request schemas allow undeclared fields, so a misspelt field would pass;
 * {@link #undeclaredFields} catches those.
 */
final class OpenApiSchemas {
  private OpenApiSchemas() {}

  private static final String RESOURCE = "/plaid/plaid-openapi-2020-09-14.yml";
  private static JsonNode root;

  private static synchronized JsonNode root() {
    if (root == null) {
      LoaderOptions loader = new LoaderOptions();
      loader.setCodePointLimit(64 * 1024 * 1024); // the file is over snakeyaml's 3 MB default
      ObjectMapper yaml = new ObjectMapper(YAMLFactory.builder().loaderOptions(loader).build());
      try (InputStream in = OpenApiSchemas.class.getResourceAsStream(RESOURCE)) {
        if (in == null) {
          throw new IllegalStateException(RESOURCE + " missing from the test classpath");
        }
        root = yaml.readTree(in);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return root;
  }

  /** Every violation of the named schema, as readable lines (empty when the body is valid). */
  static List<String> violations(String schemaName, JsonObject body) {
    List<String> out = new ArrayList<>(PlaidSchema.violations(schemaName, body.encode()));
    out.addAll(undeclaredFields(schemaName, body));
    return out;
  }

  /** Fields of the body (and of its nested objects) that the schema does not declare. */
  static List<String> undeclaredFields(String schemaName, JsonObject body) {
    List<String> out = new ArrayList<>();
    walk(resolve(root().at("/components/schemas/" + schemaName)), toNode(body), "$", out);
    return out;
  }
  private static void walk(JsonNode schema, JsonNode value, String path, List<String> out) {
    if (schema == null || schema.isMissingNode() || value == null || !value.isObject()) {
      return;
    }
    JsonNode properties = mergedProperties(schema);
    if (properties == null) {
      return;
    }
    Iterator<Map.Entry<String, JsonNode>> fields = value.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> field = fields.next();
      JsonNode declared = properties.get(field.getKey());
      if (declared == null) {
        out.add(path + "." + field.getKey() + ": not declared by the schema");
      } else {
        walk(resolve(declared), field.getValue(), path + "." + field.getKey(), out);
      }
    }
  }

  /** Properties of a schema, including those of its allOf parts; null when it declares none. */
  private static JsonNode mergedProperties(JsonNode schema) {
    com.fasterxml.jackson.databind.node.ObjectNode merged = new ObjectMapper().createObjectNode();
    if (schema.has("properties")) {
      merged.setAll((com.fasterxml.jackson.databind.node.ObjectNode) schema.get("properties"));
    }
    if (schema.has("allOf")) {
      for (JsonNode part : schema.get("allOf")) {
        JsonNode props = mergedProperties(resolve(part));
        if (props != null) {
          merged.setAll((com.fasterxml.jackson.databind.node.ObjectNode) props);
        }
      }
    }
    return merged.isEmpty() ? null : merged;
  }

  private static JsonNode resolve(JsonNode schema) {
    JsonNode current = schema;
    for (int i = 0; i < 16 && current != null && current.has("$ref"); i++) {
      current = root().at(current.get("$ref").asText().substring(1));
    }
    return current;
  }

  private static JsonNode toNode(JsonObject body) {
    try {
      return new ObjectMapper().readTree(body.encode());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
