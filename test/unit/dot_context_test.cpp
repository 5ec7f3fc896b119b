// Interval sets and dot contexts: the causal context compacts and answers exactly.
#include <catch2/catch.hpp>
#include <algorithm>
#include <limits>
#include <numeric>
#include <random>

#include "core/dot_context.hpp"

using namespace zpartisan::core;

TEST_CASE("interval sets merge neighbours and split on erase", "[dot_context]") {
    interval_set set;
    for (auto v : {5, 1, 3, 2, 9, 4}) set.insert(static_cast<std::uint64_t>(v));
    CHECK(set.ranges() == std::vector<interval_set::interval>{{1, 5}, {9, 9}});
    set.insert({6, 8});
    CHECK(set.ranges() == std::vector<interval_set::interval>{{1, 9}});
    set.erase(4);
    CHECK(set.ranges() == std::vector<interval_set::interval>{{1, 3}, {5, 9}});
    CHECK_FALSE(set.contains(4));
    CHECK(set.contains(5));
    CHECK(set.max() == 9);
    CHECK(set.size() == 8);
}

TEST_CASE("interval sets stay sorted at the largest counter", "[dot_context]") {
    constexpr auto top = std::numeric_limits<std::uint64_t>::max();
    interval_set set;
    set.insert({1, 10});
    set.insert({11, top});  // adjacent to [1, 10]: one range
    CHECK(set.ranges() == std::vector<interval_set::interval>{{1, top}});
    CHECK(set.contains(5));
    interval_set apart;
    apart.insert({20, top});
    apart.insert({1, 10});
    apart.insert({15, 15});
    CHECK(apart.ranges() == std::vector<interval_set::interval>{{1, 10}, {15, 15}, {20, top}});
    apart.insert({11, 19});
    CHECK(apart.ranges() == std::vector<interval_set::interval>{{1, top}});
}

TEST_CASE("interval set algebra: includes, minus, overlap", "[dot_context]") {
    interval_set a, b;
    a.insert({1, 10});
    b.insert({3, 4});
    b.insert({8, 12});
    CHECK_FALSE(a.includes(b));
    CHECK(a.overlap_count(b) == 5);
    CHECK(a.minus(b).ranges() == std::vector<interval_set::interval>{{1, 2}, {5, 7}});
    CHECK(b.minus(a).ranges() == std::vector<interval_set::interval>{{11, 12}});
    b.erase(11);
    b.erase(12);
    CHECK(a.includes(b));
}

TEST_CASE("a context that saw everything compacts to one interval per actor", "[dot_context]") {
    std::vector<std::uint64_t> counters(1000);
    std::iota(counters.begin(), counters.end(), 1);
    std::shuffle(counters.begin(), counters.end(), std::mt19937_64(3));
    dot_context context;
    for (auto c : counters) context.insert(dot{"x/1", c});
    CHECK(context.interval_count() == 1);
    CHECK(context.next_dot("x/1") == dot{"x/1", 1001});
    CHECK(context.next_dot("y/1") == dot{"y/1", 1});
    context.erase(dot{"x/1", 500});
    CHECK(context.interval_count() == 2);
    CHECK(context.dot_count() == 999);
}

TEST_CASE("contexts merge, include and subtract", "[dot_context]") {
    dot_context a, b;
    a.insert(dot{"p", 1});
    a.insert(dot{"p", 2});
    b.insert(dot{"p", 2});
    b.insert(dot{"q", 7});
    CHECK_FALSE(a.includes(b));
    auto merged = a;
    merged.merge(b);
    CHECK(merged.includes(a));
    CHECK(merged.includes(b));
    CHECK(merged.minus(a).dot_count() == 1);
    CHECK(merged.minus(merged).empty());
    merged.erase(dot{"q", 7});
    CHECK(merged == a);
}

TEST_CASE("merging interval sets in one pass equals inserting each range", "[dot_context]") {
    constexpr auto top = std::numeric_limits<std::uint64_t>::max();
    std::mt19937_64 rng(11);
    auto random_set = [&rng] {
        interval_set set;
        const auto ranges = rng() % 12;
        for (std::uint64_t i = 0; i < ranges; ++i) {
            // Small counters so ranges touch and overlap, and some near the largest one.
            const std::uint64_t base = rng() % 4 == 0 ? top - 40 : 1;
            const auto first = base + rng() % 30;
            set.insert({first, std::min(top - 1, first + rng() % 5)});
        }
        return set;
    };
    for (int round = 0; round < 2000; ++round) {
        auto a = random_set();
        const auto b = random_set();
        auto expected = a;
        for (const auto& range : b.ranges()) expected.insert(range);
        a.merge(b);
        CAPTURE(round);
        REQUIRE(a == expected);
    }
}
