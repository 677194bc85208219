package com.mingus.reliability.http;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.openapi.router.RequestExtractor;
import io.vertx.json.schema.Draft;
import io.vertx.json.schema.JsonSchemaOptions;
import io.vertx.json.schema.OutputFormat;
import io.vertx.json.schema.OutputUnit;
import io.vertx.json.schema.Validator;
import io.vertx.json.schema.common.dsl.SchemaType;
import io.vertx.openapi.contract.Location;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.Operation;
import io.vertx.openapi.contract.Parameter;
import java.util.ArrayList;
import java.util.List;
import io.vertx.openapi.validation.RequestValidator;
import io.vertx.openapi.validation.SchemaValidationException;
import io.vertx.openapi.validation.ValidatorException;

/**
 * Validates each request against our own OpenAPI document ({@code openapi.yaml}, served at
 * {@code /openapi.yaml}) with vertx-openapi: path and query parameters and JSON bodies. A request the
 * document does not allow is answered 400 with the validator's reason.
 *
 * <p>Operations without a body (every GET, the bodiless POSTs) are checked with the same parameter schemas
 * from the same document, compiled once at start-up: vertx-openapi's request validator builds a schema
 * validator per parameter per request, which cost more than everything else on the hottest route.
 */
final class OpenApi {
  static final String VALIDATED = "validated";

  private final OpenAPIContract contract;
  private final RequestValidator validator;
  private final RequestExtractor extractor = RequestExtractor.withBodyHandler();

  OpenApi(Vertx vertx, OpenAPIContract contract) {
    this.contract = contract;
    this.validator = RequestValidator.create(vertx, contract);
  }

  Handler<RoutingContext> validator(String operationId) {
    Operation operation = contract.operation(operationId);
    if (operation == null) {
      throw new IllegalStateException("openapi.yaml has no operation " + operationId);
    }
    if (operation.getRequestBody() == null) {
      return parameters(operation);
    }
    return ctx -> extractor.extractValidatableRequest(ctx, operation)
        .compose(request -> validator.validate(request, operationId))
        .onSuccess(validated -> {
          ctx.put(VALIDATED, validated);
          ctx.next();
        })
        .onFailure(failure -> Responses.error(ctx, 400, "INVALID_REQUEST", reason(failure)));
  }

  private record ParameterCheck(String name, boolean path, boolean required, SchemaType type, Validator validator,
      StringCheck plain) {}

  /**
   * A string schema of only {@code type}, {@code pattern}, {@code minLength} and {@code maxLength} (every id in
   * our paths), checked with a compiled regex: the same rule, without a schema walk per request.
   */
  private record StringCheck(java.util.regex.Pattern pattern, int minLength, int maxLength) {
    static StringCheck of(io.vertx.json.schema.JsonSchema schema) {
      java.util.Set<String> keys = new java.util.HashSet<>(schema.fieldNames());
      if (!"string".equals(schema.get("type")) || !java.util.Set.of("type", "pattern", "minLength", "maxLength").containsAll(keys)) {
        return null;
      }
      Object pattern = schema.get("pattern");
      Object min = schema.get("minLength");
      Object max = schema.get("maxLength");
      return new StringCheck(pattern == null ? null : java.util.regex.Pattern.compile(String.valueOf(pattern)),
          min instanceof Number n ? n.intValue() : 0, max instanceof Number n ? n.intValue() : Integer.MAX_VALUE);
    }

    boolean valid(String value) {
      int length = value.codePointCount(0, value.length());
      return length >= minLength && length <= maxLength && (pattern == null || pattern.matcher(value).find());
    }
  }

  private static Handler<RoutingContext> parameters(Operation operation) {
    List<ParameterCheck> checks = new ArrayList<>();
    for (Parameter parameter : operation.getParameters()) {
      if (parameter.getIn() != Location.PATH && parameter.getIn() != Location.QUERY) {
        continue;
      }
      Validator validator = Validator.create(parameter.getSchema(), new JsonSchemaOptions().setDraft(Draft.DRAFT202012)
          .setBaseUri("app:///").setOutputFormat(OutputFormat.Basic));
      checks.add(new ParameterCheck(parameter.getName(), parameter.getIn() == Location.PATH, parameter.isRequired(),
          parameter.getSchemaType(), validator, StringCheck.of(parameter.getSchema())));
    }
    return ctx -> {
      for (ParameterCheck check : checks) {
        String where = check.path() ? "path" : "query";
        String raw = check.path() ? ctx.pathParam(check.name()) : ctx.queryParams().get(check.name());
        if (raw == null) {
          if (check.required()) {
            Responses.error(ctx, 400, "INVALID_REQUEST", "The " + where + " parameter " + check.name() + " is required");
            return;
          }
          continue;
        }
        if (check.plain() != null) {
          if (!check.plain().valid(raw)) {
            Responses.error(ctx, 400, "INVALID_REQUEST", "The value of " + where + " parameter " + check.name() + " is invalid");
            return;
          }
          continue;
        }
        Object value;
        try {
          value = switch (check.type() == null ? SchemaType.STRING : check.type()) {
            case INTEGER -> Long.parseLong(raw);
            case NUMBER -> Double.parseDouble(raw);
            case BOOLEAN -> {
              if (!raw.equals("true") && !raw.equals("false")) {
                throw new NumberFormatException(raw);
              }
              yield Boolean.parseBoolean(raw);
            }
            default -> raw;
          };
        } catch (NumberFormatException e) {
          Responses.error(ctx, 400, "INVALID_REQUEST", "The " + where + " parameter " + check.name() + " has the wrong type");
          return;
        }
        OutputUnit result = check.validator().validate(value);
        if (!Boolean.TRUE.equals(result.getValid())) {
          Responses.error(ctx, 400, "INVALID_REQUEST", "The value of " + where + " parameter " + check.name() + " is invalid"
              + (result.getError() == null ? "" : ": " + result.getError()));
          return;
        }
      }
      ctx.next();
    };
  }

  private static String reason(Throwable failure) {
    String message;
    if (failure instanceof SchemaValidationException schema) {
      message = schema.getMessage();
    } else if (failure instanceof ValidatorException validation) {
      message = validation.getMessage();
    } else {
      message = "The request does not match the API";
    }
    if (message == null) {
      return "The request does not match the API";
    }
    message = message.replace(": null", "");
    return message.length() > 300 ? message.substring(0, 300) : message;
  }
}
