package com.mingus.reliability.http;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.openapi.router.RequestExtractor;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.Operation;
import io.vertx.openapi.validation.RequestValidator;
import io.vertx.openapi.validation.SchemaValidationException;
import io.vertx.openapi.validation.ValidatorException;

/**
 * Validates each request against our own OpenAPI document ({@code openapi.yaml}, served at
 * {@code /openapi.yaml}) with vertx-openapi: path and query parameters and JSON bodies. A request the
 * document does not allow is answered 400 with the validator's reason.
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
    return ctx -> extractor.extractValidatableRequest(ctx, operation)
        .compose(request -> validator.validate(request, operationId))
        .onSuccess(validated -> {
          ctx.put(VALIDATED, validated);
          ctx.next();
        })
        .onFailure(failure -> Responses.error(ctx, 400, "INVALID_REQUEST", reason(failure)));
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
