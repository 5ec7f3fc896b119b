// Servers' liveness words (core/liveness_words.hpp): the latest down word per subject, healed
// by an up word or by not being repeated within its time to live.
#include <catch2/catch.hpp>

#include "core/liveness_words.hpp"

using namespace zpartisan;

namespace {
core::liveness word(const std::string& origin, const std::string& subject, bool reachable) {
    core::liveness w;
    w.origin = origin;
    w.subject = subject;
    w.reachable = reachable;
    return w;
}
}  // namespace

TEST_CASE("a down word holds until an up word about its subject", "[liveness_words]") {
    core::liveness_words words(5000);
    CHECK(words.empty());
    words.heard(word("s1", "c1", false), 100);
    REQUIRE(words.down_word("c1") != nullptr);
    CHECK(words.down_word("c1")->origin == "s1");
    CHECK(words.down_word("c2") == nullptr);
    words.heard(word("s2", "c1", false), 200);  // the latest one counts
    CHECK(words.down_word("c1")->origin == "s2");
    words.heard(word("s2", "c1", true), 300);
    CHECK(words.down_word("c1") == nullptr);
    CHECK(words.empty());
}

TEST_CASE("a down word not repeated within its time to live is forgotten", "[liveness_words]") {
    core::liveness_words words(5000);
    words.heard(word("s1", "c1", false), 100);
    words.heard(word("s1", "c2", false), 1000);
    CHECK(words.next_expiry_ms() == 5100u);
    CHECK(words.expire(5099).empty());
    words.heard(word("s1", "c1", false), 5000);  // repeated at a beacon: lives on
    CHECK(words.next_expiry_ms() == 6000u);
    CHECK(words.expire(6000) == std::vector<std::string>{"c2"});
    CHECK(words.expire(10000) == std::vector<std::string>{"c1"});
    CHECK_FALSE(words.next_expiry_ms());
}
