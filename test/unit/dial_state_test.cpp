// A dial's hello schedule (core/dial_state.hpp): repeated with a growing, jittered wait while
// unanswered or its peer is down, never after a refusal, and started afresh once answered.
#include <catch2/catch.hpp>

#include <random>

#include "core/dial_state.hpp"

using namespace zpartisan;

namespace {
constexpr core::hello_backoff backoff{.first_ms = 500, .max_ms = 5000};
}

TEST_CASE("an unanswered hello is repeated after a wait that doubles up to the bound", "[dial_state]") {
    std::mt19937_64 rng(1);
    core::dial_state dial;
    dial.hello_sent_ms = 0;
    CHECK(dial.next_hello_ms(false, 0, backoff) == 500u);
    CHECK_FALSE(dial.take_hello_due(false, 499, backoff, rng));
    std::uint64_t now = 500;
    std::uint64_t previous_wait = 500;
    for (int i = 0; i < 8; ++i) {
        REQUIRE(dial.take_hello_due(false, now, backoff, rng));
        dial.hello_sent_ms = now;
        const auto wait = *dial.next_hello_ms(false, now, backoff) - now;
        const auto full = std::min<std::uint64_t>(previous_wait * 2, backoff.max_ms);
        // Up to a quarter sooner than the doubled wait, never more than the bound.
        CHECK(wait <= full);
        CHECK(wait >= full - full / 4);
        previous_wait = wait;
        now += wait;
    }
    CHECK(previous_wait <= backoff.max_ms);
}

TEST_CASE("a refused dial says hello no more, an answered one starts its wait afresh", "[dial_state]") {
    std::mt19937_64 rng(1);
    core::dial_state dial;
    REQUIRE(dial.take_hello_due(false, 500, backoff, rng));
    CHECK(dial.retry_ms != 0);
    dial.welcomed = true;
    // Answered and up: the tick resets the wait at once, then nothing is due.
    CHECK(dial.next_hello_ms(true, 700, backoff) == 700u);
    CHECK_FALSE(dial.take_hello_due(true, 700, backoff, rng));
    CHECK(dial.retry_ms == 0);
    CHECK_FALSE(dial.next_hello_ms(true, 700, backoff));
    // Its peer seen down: hellos again, from the first wait.
    dial.hello_sent_ms = 700;
    CHECK(dial.next_hello_ms(false, 800, backoff) == 1200u);
    dial.refused = true;
    CHECK_FALSE(dial.next_hello_ms(false, 5000, backoff));
    CHECK_FALSE(dial.take_hello_due(false, 5000, backoff, rng));
}
