package com.mingus.reliability.sandbox;

import java.util.List;
import java.util.SplittableRandom;

/** The merchants the sandbox's transactions come from: Plaid's categories, channels and plausible amounts. */
final class Merchants {
  private Merchants() {}

  record Merchant(String name, String merchantName, List<String> category, String categoryId, String pfcPrimary,
      String pfcDetailed, String channel, long minCents, long maxCents, String website, String city, String region) {}

  static final List<Merchant> ALL = List.of(
      new Merchant("Starbucks", "Starbucks", List.of("Food and Drink", "Restaurants", "Coffee Shop"), "13005043",
          "FOOD_AND_DRINK", "FOOD_AND_DRINK_COFFEE", "in store", 350, 1_200, "starbucks.com", "San Francisco", "CA"),
      new Merchant("McDonald's", "McDonald's", List.of("Food and Drink", "Restaurants", "Fast Food"), "13005032",
          "FOOD_AND_DRINK", "FOOD_AND_DRINK_FAST_FOOD", "in store", 500, 2_500, "mcdonalds.com", "Oakland", "CA"),
      new Merchant("Whole Foods Market", "Whole Foods", List.of("Shops", "Supermarkets and Groceries"), "19047000",
          "FOOD_AND_DRINK", "FOOD_AND_DRINK_GROCERIES", "in store", 1_500, 18_000, "wholefoodsmarket.com", "Berkeley", "CA"),
      new Merchant("Uber 063015 SF**POOL**", "Uber", List.of("Travel", "Taxi"), "22016000",
          "TRANSPORTATION", "TRANSPORTATION_TAXIS_AND_RIDE_SHARES", "online", 600, 4_500, "uber.com", null, null),
      new Merchant("AMAZON MKTPL*2K4LD8", "Amazon", List.of("Shops", "Digital Purchase"), "19013000",
          "GENERAL_MERCHANDISE", "GENERAL_MERCHANDISE_ONLINE_MARKETPLACES", "online", 899, 25_000, "amazon.com", null, null),
      new Merchant("United Airlines", "United Airlines", List.of("Travel", "Airlines and Aviation Services"), "22001000",
          "TRAVEL", "TRAVEL_FLIGHTS", "in store", 12_000, 90_000, "united.com", null, null),
      new Merchant("Netflix", "Netflix", List.of("Service", "Subscription"), "18061000",
          "ENTERTAINMENT", "ENTERTAINMENT_TV_AND_MOVIES", "online", 1_549, 2_299, "netflix.com", null, null),
      new Merchant("Shell Oil 5744", "Shell", List.of("Travel", "Gas Stations"), "22009000",
          "TRANSPORTATION", "TRANSPORTATION_GAS", "in store", 2_500, 9_000, "shell.com", "San Jose", "CA"),
      new Merchant("PG&E Utility Payment", "PG&E", List.of("Service", "Utilities"), "18068000",
          "RENT_AND_UTILITIES", "RENT_AND_UTILITIES_GAS_AND_ELECTRICITY", "other", 6_000, 28_000, "pge.com", null, null),
      new Merchant("Touchstone Climbing", "Touchstone Climbing", List.of("Recreation", "Gyms and Fitness Centers"), "17018000",
          "ENTERTAINMENT", "ENTERTAINMENT_SPORTING_EVENTS_AMUSEMENT_PARKS_AND_MUSEUMS", "in store", 2_000, 9_500, null, "Berkeley", "CA"),
      new Merchant("SparkFun", "SparkFun", List.of("Shops", "Computers and Electronics"), "19013000",
          "GENERAL_MERCHANDISE", "GENERAL_MERCHANDISE_ELECTRONICS", "online", 1_000, 30_000, "sparkfun.com", null, null),
      new Merchant("CD DEPOSIT .INITIAL.", null, List.of("Transfer", "Deposit"), "21007000",
          "TRANSFER_IN", "TRANSFER_IN_DEPOSIT", "other", -100_000, -10_000, null, null, null),
      new Merchant("GUSTO PAY 123456", "Gusto", List.of("Transfer", "Payroll"), "21009000",
          "INCOME", "INCOME_WAGES", "other", -420_000, -180_000, "gusto.com", null, null),
      new Merchant("INTRST PYMNT", null, List.of("Transfer", "Credit"), "21005000",
          "INCOME", "INCOME_INTEREST_EARNED", "other", -900, -100, null, null, null),
      new Merchant("Madison Bicycle Shop", "Madison Bicycle Shop", List.of("Shops", "Sporting Goods"), "19046000",
          "GENERAL_MERCHANDISE", "GENERAL_MERCHANDISE_SPORTING_GOODS", "in store", 2_500, 50_000, null, "Madison", "WI"),
      new Merchant("KFC", "KFC", List.of("Food and Drink", "Restaurants", "Fast Food"), "13005032",
          "FOOD_AND_DRINK", "FOOD_AND_DRINK_FAST_FOOD", "in store", 600, 3_000, "kfc.com", "Chicago", "IL"));

  static Merchant pick(SplittableRandom random) {
    // income is rarer than spending
    Merchant merchant = ALL.get(random.nextInt(ALL.size()));
    if (merchant.maxCents() < 0 && random.nextInt(3) != 0) {
      merchant = ALL.get(random.nextInt(11));
    }
    return merchant;
  }

  static long amount(Merchant merchant, SplittableRandom random) {
    return merchant.minCents() + random.nextLong(merchant.maxCents() - merchant.minCents() + 1);
  }
}
