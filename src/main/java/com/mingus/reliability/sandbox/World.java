package com.mingus.reliability.sandbox;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Everything the sandbox knows: institutions, Items and tokens, all derived from one seed. It lives on the
 * verticle's event loop only, so nothing here is synchronised.
 */
final class World {
  /** Plaid's own sandbox institutions (non-OAuth), so tests read like Plaid's documentation. */
  private static final String[][] DEFAULT_INSTITUTIONS = {
      {"ins_109508", "First Platypus Bank"},
      {"ins_109509", "First Gingham Credit Union"},
      {"ins_109510", "Tattersall Federal Credit Union"},
      {"ins_109511", "Tartan Bank"},
      {"ins_109512", "Houndstooth Bank"},
  };
  static final long PUBLIC_TOKEN_TTL_MS = 30 * 60_000L;

  record PublicToken(String itemId, long expiresAtMs) {}

  final long seed;
  final LocalDate today;
  private final SplittableRandom random;
  // request ids draw from their own generator so that tokens do not depend on how many requests came first
  private final SplittableRandom requestIds;
  final Map<String, Institution> institutions = new LinkedHashMap<>();
  final Map<String, Item> items = new LinkedHashMap<>();
  final Map<String, Item> byToken = new HashMap<>();
  final Map<String, PublicToken> publicTokens = new HashMap<>();
  private int itemCount;

  World(long seed, LocalDate today, Instant now) {
    this.seed = seed;
    this.today = today == null ? LocalDate.ofInstant(now, ZoneOffset.UTC) : today;
    this.random = new SplittableRandom(seed);
    this.requestIds = new SplittableRandom(~seed);
    for (String[] bank : DEFAULT_INSTITUTIONS) {
      addInstitution(bank[0], bank[1], now);
    }
  }

  Institution addInstitution(String id, String name, Instant now) {
    String routing = String.format("%09d", random.nextInt(1_000_000_000));
    String color = String.format("#%06x", random.nextInt(0x1000000));
    Institution institution = new Institution(id, name, routing, color, now);
    institutions.put(id, institution);
    return institution;
  }

  /**
   * Creates an Item. Its data come from a generator of its own, derived from the seed and its position,
   * so an Item's accounts and history do not depend on what else was asked of the sandbox meanwhile.
   */
  Item createItem(String institutionId, String userId, String webhook, List<Account.Template> accountSpec,
      int accountCount, int transactions, Instant now) {
    int index = ++itemCount;
    SplittableRandom itemRandom = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + index);
    String itemId = Ids.plaidId(itemRandom);
    String accessToken = "access-sandbox-" + Ids.uuid(itemRandom);
    List<Account.Template> templates = accountSpec;
    if (templates == null) {
      int count = accountCount > 0 ? accountCount : 1 + itemRandom.nextInt(5);
      templates = List.of(Account.TEMPLATES).subList(0, count);
    }
    List<Account> accounts = new ArrayList<>();
    for (Account.Template template : templates) {
      boolean credit = "credit".equals(template.type());
      long opening = credit ? itemRandom.nextLong(50_000, 200_000) : itemRandom.nextLong(500_000, 5_000_000);
      accounts.add(new Account(Ids.plaidId(itemRandom), template.name(), template.officialName(), template.type(),
          template.subtype(), template.mask(), opening, credit ? 1_000_000L : null));
    }
    Item item = new Item(itemId, accessToken, institutionId, userId, webhook, now, accounts, itemRandom);
    item.generateHistory(transactions, today);
    items.put(itemId, item);
    byToken.put(accessToken, item);
    return item;
  }

  String publicTokenFor(Item item, long nowMs) {
    if (publicTokens.size() > 10_000) {
      publicTokens.values().removeIf(entry -> entry.expiresAtMs() < nowMs);
    }
    String token = "public-sandbox-" + Ids.uuid(random);
    publicTokens.put(token, new PublicToken(item.id, nowMs + PUBLIC_TOKEN_TTL_MS));
    return token;
  }

  /** A Link token; Link itself is not simulated, so nothing needs to remember it. */
  String linkToken() {
    return "link-sandbox-" + Ids.uuid(random);
  }

  String requestId() {
    return Ids.base62(requestIds, 15);
  }

  Institution institutionOf(Item item) {
    return institutions.get(item.institutionId);
  }
}
