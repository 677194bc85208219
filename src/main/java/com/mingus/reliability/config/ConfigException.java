package com.mingus.reliability.config;

/** A setting that is wrong. Its message is one line: the setting's name and why it is wrong. */
public final class ConfigException extends RuntimeException {
  private final String setting;

  public ConfigException(String setting, String reason) {
    super(setting + ": " + reason, null, false, false);
    this.setting = setting;
  }

  public String setting() {
    return setting;
  }
}
