package com.mingus.reliability.http;

import java.util.List;

/**
 * The caller, as a verified JWT says: {@code sub} is the MINGUS user id; {@code roles} containing
 * {@code "admin"} marks an operator; {@code email} and {@code name} fill the user's contact point and
 * {@code {user_name}} in notifications.
 */
record Principal(String userId, List<String> roles, String email, String name) {

  boolean admin() {
    return roles.contains("admin");
  }
}
