// What a peer's bytes look like in a log line, and how often a peer can make the node write one.
#include <catch2/catch.hpp>

#include "core/log_limiter.hpp"
#include "core/log_text.hpp"

using zpartisan::core::log_limiter;
using zpartisan::core::log_limits;
using zpartisan::core::log_text;

TEST_CASE("log_text shows a sane name as it is", "[log]") {
    CHECK(log_text("s1") == "s1");
    CHECK(log_text("tcp://127.0.0.1:7000") == "tcp://127.0.0.1:7000");
    CHECK(log_text("") == "");
}

TEST_CASE("log_text hexes control bytes, non-ASCII, quotes, backslashes and percent signs", "[log]") {
    CHECK(log_text(std::string("a\0b", 3)) == "a%00b");
    CHECK(log_text("line\nforged: ok") == "line%0Aforged: ok");
    CHECK(log_text("\x1b[31mred") == "%1B[31mred");
    CHECK(log_text("\xff\xfe") == "%FF%FE");
    CHECK(log_text(R"(say "hi" \ 100%)") == "say %22hi%22 %5C 100%25");
    // Nothing a JSON string or a terminal would interpret survives.
    const auto every_byte = [] {
        std::string all;
        for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
        return log_text(all, 256);
    }();
    for (const char c : every_byte) {
        CHECK(static_cast<unsigned char>(c) >= 0x20);
        CHECK(static_cast<unsigned char>(c) <= 0x7e);
        CHECK(c != '"');
        CHECK(c != '\\');
    }
}

TEST_CASE("log_text cuts long input and says how long it was", "[log]") {
    const std::string long_name(100'000, 'x');
    const auto shown = log_text(long_name);
    CHECK(shown == std::string(64, 'x') + "...(100000 bytes)");
    CHECK(log_text(std::string(64, 'y')) == std::string(64, 'y'));
    CHECK(log_text("\x01\x02\x03", 2) == "%01%02...(3 bytes)");
}

TEST_CASE("log_limiter lets a burst through per peer, then one line per refill, counting what it held back", "[log]") {
    log_limiter limiter(log_limits{.burst_per_key = 3,
                                   .refill_per_key_ms = 1000,
                                   .burst_per_reason = 100,
                                   .refill_per_reason_ms = 1,
                                   .max_keys = 16});
    std::uint64_t now = 5000;
    for (int i = 0; i < 3; ++i) CHECK(limiter.admit("garbage", "p1", now).log);
    for (int i = 0; i < 7; ++i) CHECK_FALSE(limiter.admit("garbage", "p1", now).log);
    CHECK(limiter.suppressed_total() == 7);
    // Another peer with the same problem is still heard.
    CHECK(limiter.admit("garbage", "p2", now).log);
    // As is the same peer with another problem.
    CHECK(limiter.admit("refused_hello", "p1", now).log);
    CHECK_FALSE(limiter.admit("garbage", "p1", now + 999).log);
    const auto resumed = limiter.admit("garbage", "p1", now + 1000);
    CHECK(resumed.log);
    CHECK(resumed.suppressed_before == 8);
    CHECK_FALSE(limiter.admit("garbage", "p1", now + 1000).log);
    // A long silence refills up to the burst, not beyond.
    now += 1'000'000;
    for (int i = 0; i < 3; ++i) CHECK(limiter.admit("garbage", "p1", now).log);
    CHECK_FALSE(limiter.admit("garbage", "p1", now).log);
}

TEST_CASE("log_limiter bounds one reason over all peers, so changing the routing id gains nothing", "[log]") {
    log_limiter limiter(log_limits{.burst_per_key = 3,
                                   .refill_per_key_ms = 10'000,
                                   .burst_per_reason = 10,
                                   .refill_per_reason_ms = 1000,
                                   .max_keys = 1024});
    int logged = 0;
    std::uint64_t now = 0;
    for (int second = 0; second < 60; ++second, now += 1000)
        for (int i = 0; i < 1000; ++i)
            if (limiter.admit("garbage", "peer" + std::to_string(second * 1000 + i), now).log) ++logged;
    // At most the burst of 10, then one a second: 60,000 frames from 60,000 ids, a few dozen lines.
    CHECK(logged >= 10);
    CHECK(logged <= 10 + 59);
    CHECK(limiter.keys() <= 1024 + 1);
    CHECK(limiter.suppressed_total() == 60'000u - static_cast<unsigned>(logged));
}

TEST_CASE("log_limiter keeps its key table bounded and forgets quiet keys first", "[log]") {
    log_limiter limiter(log_limits{.burst_per_key = 2,
                                   .refill_per_key_ms = 100,
                                   .burst_per_reason = 1'000'000,
                                   .refill_per_reason_ms = 1,
                                   .max_keys = 4});
    for (int i = 0; i < 4; ++i) CHECK(limiter.admit("r", "p" + std::to_string(i), 0).log);
    CHECK(limiter.keys() == 4);
    // Full table, nobody quiet yet: new peers share one key for the reason.
    CHECK(limiter.admit("r", "p4", 0).log);
    CHECK(limiter.admit("r", "p5", 0).log);
    CHECK_FALSE(limiter.admit("r", "p6", 0).log);
    CHECK(limiter.keys() == 5);
    // Once the first keys' buckets are full again, they make room.
    CHECK(limiter.admit("r", "p7", 1000).log);
    CHECK(limiter.keys() <= 5);
    for (int i = 0; i < 100'000; ++i) (void)limiter.admit("r", "q" + std::to_string(i), 2000 + i);
    CHECK(limiter.keys() <= 5);
}
