package com.mingus.reliability.classify;

import com.mingus.reliability.config.ConfigLoader;
import io.vertx.core.json.JsonObject;
import java.util.SplittableRandom;

/** Classifiers built from the shipped defaults (conf/config.json), seeded, for the tests. */
final class Classifiers {
  private Classifiers() {}

  static JsonObject shippedSection() {
    return ConfigLoader.bundledDefaults().getJsonObject("classify").copy();
  }

  static ClassifySettings shipped() {
    return ClassifySettings.from(shippedSection());
  }

  /** No retry budget: every planned retry is granted. */
  static Classifier withoutBudget(long seed) {
    return new Classifier(shipped(), new SplittableRandom(seed), null);
  }
}
