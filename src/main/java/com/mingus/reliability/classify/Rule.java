package com.mingus.reliability.classify;

import com.mingus.reliability.bus.Classification.Scope;
import com.mingus.reliability.bus.ConnectionStatus;
import com.mingus.reliability.bus.ErrorCategory;
import com.mingus.reliability.bus.NotificationPriority;
import com.mingus.reliability.bus.NotificationType;
import com.mingus.reliability.bus.UserAction;

/**
 * What one kind of failure means: its category, how it is handled, what the user must do, the connection
 * status it implies, how far it reaches, what to tell the user and how urgently, and the default message
 * when Plaid gives no display_message.
 */
record Rule(
    ErrorCategory category,
    Handling handling,
    UserAction action,
    ConnectionStatus status,
    Scope scope,
    NotificationType notification,
    NotificationPriority priority,
    String message) {

  /** How a failure is handled, before strategies and the retry budget turn it into a plan. */
  enum Handling {
    /** Transient: retry with the category's strategy, inside the retry budget. */
    RETRY,
    /** TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION: restart the whole pagination now. */
    RESTART_PAGINATION,
    /** PRODUCT_NOT_READY: a webhook says when; poll slowly in case it is lost. */
    WAIT_FOR_WEBHOOK,
    /** The user must act; never retried. */
    USER,
    /** A warning ahead of time (PENDING_EXPIRATION): nothing failed yet. */
    WARN,
    /** Repeating cannot help (our bug, configuration, a removed Item). */
    STOP
  }
}
