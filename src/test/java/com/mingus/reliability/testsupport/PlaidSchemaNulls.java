package com.mingus.reliability.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Finds a {@code null} where Plaid's OpenAPI file does not say {@code nullable: true}. {@link PlaidSchema}'s
 * validator lets any null through inside an object whose own schema is nullable (e.g. {@code code_sent:
 * null} inside {@code ItemStatusLastWebhook}), so this walks the document itself: {@code $ref},
 * {@code allOf}, {@code properties} and {@code items}; {@code oneOf}/{@code anyOf} are not followed.
 */
public final class PlaidSchemaNulls {
  private static final String DOCUMENT = "plaid/plaid-openapi-2020-09-14.yml";

  private PlaidSchemaNulls() {}

  private static final class Document {
    static final JsonNode ROOT = load();

    private static JsonNode load() {
      try (InputStream in = PlaidSchemaNulls.class.getClassLoader().getResourceAsStream(DOCUMENT)) {
        return new ObjectMapper(new YAMLFactory()).readTree(in);
      } catch (Exception e) {
        throw new IllegalStateException("cannot read " + DOCUMENT, e);
      }
    }
  }

  /** Every JSON pointer under which {@code json} holds a null that {@code #/components/schemas/<component>} does not allow. */
  public static List<String> violations(String component, String json) {
    JsonNode value;
    try {
      value = new ObjectMapper().readTree(json);
    } catch (Exception e) {
      throw new AssertionError("not JSON: " + json, e);
    }
    List<String> out = new ArrayList<>();
    walk(Document.ROOT.path("components").path("schemas").path(component), value, "", out);
    return out;
  }

  public static void assertNoneWhereNotNullable(String component, String json) {
    List<String> violations = violations(component, json);
    if (!violations.isEmpty()) {
      throw new AssertionError(component + " has null where Plaid's schema does not allow it: " + violations);
    }
  }

  private static JsonNode resolve(JsonNode schema) {
    int hops = 0;
    while (schema.has("$ref") && hops++ < 50) {
      String ref = schema.get("$ref").asText();
      schema = Document.ROOT.at(ref.substring(1));
    }
    return schema;
  }

  /** Whether the schema, or any schema it is built from by $ref/allOf, says nullable. */
  private static boolean nullable(JsonNode schema) {
    if (schema.path("nullable").asBoolean(false)) {
      return true;
    }
    if (schema.has("$ref")) {
      return nullable(resolve(schema));
    }
    for (JsonNode part : schema.path("allOf")) {
      if (nullable(part)) {
        return true;
      }
    }
    // a schema that constrains nothing (no type, no structure) allows null too
    return !schema.has("type") && !schema.has("properties") && !schema.has("allOf") && !schema.has("items")
        && !schema.has("enum") && !schema.has("oneOf") && !schema.has("anyOf");
  }

  private static void walk(JsonNode schema, JsonNode value, String path, List<String> out) {
    if (value.isNull()) {
      if (!nullable(schema)) {
        out.add((path.isEmpty() ? "/" : path) + ": null, not nullable");
      }
      return;
    }
    if (schema.has("$ref")) {
      walk(resolve(schema), value, path, out);
      return;
    }
    for (JsonNode part : schema.path("allOf")) {
      walk(part, value, path, out);
    }
    if (value.isObject() && schema.has("properties")) {
      Iterator<Map.Entry<String, JsonNode>> fields = value.fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> field = fields.next();
        JsonNode property = schema.get("properties").get(field.getKey());
        if (property != null) {
          walk(property, field.getValue(), path + "/" + field.getKey(), out);
        }
      }
    }
    if (value.isArray() && schema.has("items")) {
      for (int i = 0; i < value.size(); i++) {
        walk(schema.get("items"), value.get(i), path + "/" + i, out);
      }
    }
  }
}
