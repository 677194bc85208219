package com.mingus.reliability.notify;

import static com.mingus.reliability.bus.NotificationChannel.EMAIL;
import static com.mingus.reliability.bus.NotificationChannel.IN_APP;
import static com.mingus.reliability.bus.NotificationChannel.PUSH;
import static com.mingus.reliability.bus.NotificationChannel.SMS;
import static com.mingus.reliability.bus.NotificationPriority.CRITICAL;
import static com.mingus.reliability.bus.NotificationPriority.HIGH;
import static com.mingus.reliability.bus.NotificationPriority.LOW;
import static com.mingus.reliability.bus.NotificationPriority.MEDIUM;

import com.mingus.reliability.bus.NotificationType;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The templates the database is seeded with. The first two are the seed's own; the others follow its
 * pattern: what happened, with which bank, and what the user should do.
 */
final class DefaultTemplates {
  private DefaultTemplates() {}

  private static final String FOOTER_HTML = "<p style=\"color:#666;font-size:12px\">You receive this because of your "
      + "MINGUS notification settings. Change them in the app under Settings &gt; Notifications.</p>";
  private static final String FOOTER_TEXT = "\n\n--\nYou receive this because of your MINGUS notification settings.";

  static final Map<NotificationType, Template> ALL = build();

  private static Map<NotificationType, Template> build() {
    Map<NotificationType, Template> all = new EnumMap<>(NotificationType.class);
    put(all, new Template(NotificationType.PLAID_CONNECTION_ISSUE, MEDIUM, List.of(EMAIL, IN_APP, PUSH),
        "Bank Connection Issue - Action Required",
        "<h2>Bank Connection Issue</h2><p>Hello {user_name},</p><p>We could not reach your accounts at "
            + "<strong>{institution_name}</strong>.</p><p>{action_required_text}</p>"
            + "<p><a href=\"{action_url}\">Open MINGUS</a></p>",
        "Hello {user_name},\n\nWe could not reach your accounts at {institution_name}.\n\n{action_required_text}\n\n"
            + "Open MINGUS: {action_url}",
        "Bank connection issue detected with {institution_name}. {action_required_text}",
        "Bank connection issue: {institution_name} - {action_required_text}",
        "MINGUS: Bank connection issue with {institution_name}. {action_required_text}", 1));
    put(all, new Template(NotificationType.BANK_MAINTENANCE, LOW, List.of(EMAIL, IN_APP),
        "Bank Maintenance - Temporary Service Interruption",
        "<h2>Bank Maintenance Notice</h2><p>Hello {user_name},</p><p><strong>{institution_name}</strong> is "
            + "doing maintenance, so your balances and transactions may be out of date for a while. "
            + "Expected completion: {completion_time}.</p><p>You don't need to do anything: we will catch up "
            + "automatically when it ends.</p>",
        "Hello {user_name},\n\n{institution_name} is doing maintenance, so your balances and transactions may be "
            + "out of date for a while. Expected completion: {completion_time}.\n\nYou don't need to do anything: "
            + "we will catch up automatically when it ends.",
        "Bank maintenance in progress for {institution_name}. Expected completion: {completion_time}",
        "{institution_name} maintenance until {completion_time}",
        "MINGUS: {institution_name} is under maintenance until {completion_time}. No action needed.", 1));
    put(all, new Template(NotificationType.DATA_SYNC_STATUS, LOW, List.of(IN_APP),
        "Your account data: {status}",
        "<h2>Account data update</h2><p>Hello {user_name},</p><p>Syncing your accounts at "
            + "<strong>{institution_name}</strong>: {status}.</p><p>{detail}</p>",
        "Hello {user_name},\n\nSyncing your accounts at {institution_name}: {status}.\n\n{detail}",
        "Sync with {institution_name}: {status}. {detail}",
        "{institution_name}: {status}",
        "MINGUS: sync with {institution_name}: {status}.", 1));
    put(all, new Template(NotificationType.SECURITY_ALERT, CRITICAL, List.of(EMAIL, IN_APP, PUSH, SMS),
        "Security Alert - Please Review Your Account",
        "<h2>Security Alert</h2><p>Hello {user_name},</p><p>{detail}</p><p>{action_required_text}</p>"
            + "<p>If this was not you, change your password and contact support right away.</p>",
        "Hello {user_name},\n\n{detail}\n\n{action_required_text}\n\nIf this was not you, change your password and "
            + "contact support right away.",
        "Security alert: {detail} {action_required_text}",
        "Security alert: {detail}",
        "MINGUS security alert: {detail} {action_required_text}", 1));
    put(all, new Template(NotificationType.COMPLIANCE_UPDATE, MEDIUM, List.of(EMAIL, IN_APP),
        "An update to how we handle your data",
        "<h2>Compliance Update</h2><p>Hello {user_name},</p><p>{detail}</p><p>{action_required_text}</p>",
        "Hello {user_name},\n\n{detail}\n\n{action_required_text}",
        "Compliance update: {detail} {action_required_text}",
        "Compliance update: {detail}",
        "MINGUS: compliance update. {detail} {action_required_text}", 1));
    put(all, new Template(NotificationType.SYSTEM_MAINTENANCE, LOW, List.of(IN_APP),
        "MINGUS Scheduled Maintenance",
        "<h2>Scheduled Maintenance</h2><p>Hello {user_name},</p><p>MINGUS will be briefly unavailable for "
            + "maintenance. Expected completion: {completion_time}.</p><p>{detail}</p>",
        "Hello {user_name},\n\nMINGUS will be briefly unavailable for maintenance. Expected completion: "
            + "{completion_time}.\n\n{detail}",
        // {detail} carries an operator's broadcast message (docs/notify.md, "Broadcasts")
        "Scheduled maintenance: {detail} Expected completion: {completion_time}.",
        "MINGUS maintenance: {detail}",
        "MINGUS: scheduled maintenance. {detail}", 1));
    put(all, new Template(NotificationType.FEATURE_UPDATE, LOW, List.of(IN_APP),
        "New in MINGUS",
        "<h2>New in MINGUS</h2><p>Hello {user_name},</p><p>{detail}</p>",
        "Hello {user_name},\n\n{detail}",
        "New in MINGUS: {detail}",
        "New in MINGUS: {detail}",
        "MINGUS: {detail}", 1));
    put(all, new Template(NotificationType.ACCOUNT_UPDATE, HIGH, List.of(EMAIL, IN_APP),
        "Your MINGUS account was updated",
        "<h2>Account Update</h2><p>Hello {user_name},</p><p>{detail}</p><p>{action_required_text}</p>",
        "Hello {user_name},\n\n{detail}\n\n{action_required_text}",
        "Account update: {detail} {action_required_text}",
        "Account update: {detail}",
        "MINGUS: account update. {detail}", 1));
    all.replaceAll((type, template) -> withFooter(template));
    return Map.copyOf(all);
  }

  private static Template withFooter(Template t) {
    return new Template(t.type(), t.priority(), t.channels(), t.subject(), t.emailHtml() + FOOTER_HTML,
        t.emailText() + FOOTER_TEXT, t.inApp(), t.push(), t.sms(), t.version());
  }

  private static void put(Map<NotificationType, Template> all, Template template) {
    all.put(template.type(), template);
  }
}
