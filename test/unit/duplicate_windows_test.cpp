// The receiver's duplicate windows (core/duplicate_windows.hpp): a message handed over once,
// gaps kept until filled, older incarnations recognised, strangers bounded and forgotten.
#include <catch2/catch.hpp>

#include "core/duplicate_windows.hpp"

using namespace zpartisan;

namespace {

core::forward from(const std::string& origin, std::uint64_t id, std::uint64_t incarnation = 1) {
    core::forward m;
    m.origin = origin;
    m.origin_incarnation = incarnation;
    m.destination = "s2";
    m.id = id;
    m.ack = true;
    return m;
}

const auto everyone = [](const std::string&) { return true; };
const auto nobody = [](const std::string&) { return false; };

std::map<std::string, std::uint64_t> counters_of(const core::duplicate_windows& windows) {
    std::map<std::string, std::uint64_t> all;
    windows.add_counters(all);
    return all;
}

}  // namespace

TEST_CASE("a message recorded is a duplicate afterwards, across gaps", "[duplicate_windows]") {
    core::duplicate_windows windows({});
    CHECK_FALSE(windows.delivered_before(from("c1", 5)));
    windows.record(from("c1", 5), 0, everyone);
    windows.record(from("c1", 7), 0, everyone);
    CHECK(windows.delivered_before(from("c1", 5)));
    CHECK(windows.delivered_before(from("c1", 7)));
    CHECK_FALSE(windows.delivered_before(from("c1", 6)));     // the gap
    CHECK_FALSE(windows.delivered_before(from("c1", 5, 2)));  // another incarnation
    CHECK_FALSE(windows.delivered_before(from("c2", 5)));
    windows.record(from("c1", 6), 0, everyone);
    CHECK(windows.delivered_before(from("c1", 6)));
    CHECK(counters_of(windows) == std::map<std::string, std::uint64_t>{{"duplicate_windows", 1}});
}

TEST_CASE("a new incarnation ends its older ones' windows", "[duplicate_windows]") {
    core::duplicate_windows windows({});
    windows.record(from("c1", 5, 1), 0, everyone);
    CHECK_FALSE(windows.from_older_incarnation(from("c1", 5, 1)));
    windows.record(from("c1", 9, 2), 0, everyone);
    CHECK(windows.from_older_incarnation(from("c1", 6, 1)));
    CHECK_FALSE(windows.delivered_before(from("c1", 5, 1)));  // its window went
    CHECK(windows.size() == 1);
}

TEST_CASE("too many gaps: the oldest is given up and counted", "[duplicate_windows]") {
    core::duplicate_windows windows({.gaps_max = 2});
    for (std::uint64_t id : {2, 4, 6}) windows.record(from("c1", id), 0, everyone);
    // Three gaps (1, 3, 5) over a bound of two: below 2 is taken as delivered.
    CHECK(windows.delivered_before(from("c1", 1)));
    CHECK_FALSE(windows.delivered_before(from("c1", 3)));
    CHECK(counters_of(windows).at("duplicate_window_gaps_given_up") == 1);
}

TEST_CASE("strangers' windows are bounded, and forgotten after lingering", "[duplicate_windows]") {
    core::duplicate_windows windows({.strangers_max = 2, .linger_ms = 1000});
    windows.record(from("x1", 1), 10, nobody);
    windows.record(from("x2", 1), 20, nobody);
    windows.record(from("x3", 1), 30, nobody);  // x1, heard from longest ago, goes
    CHECK(windows.size() == 2);
    CHECK_FALSE(windows.delivered_before(from("x1", 1)));
    CHECK(counters_of(windows).at("duplicate_windows_evicted") == 1);
    windows.record(from("m1", 1), 40, everyone);
    windows.prune(1025, [](const std::string& name) { return name == "m1"; });
    CHECK(windows.size() == 2);  // x2 (1020) went; x3 lingers until 1030; members stay
    windows.prune(5000, [](const std::string& name) { return name == "m1"; });
    CHECK(windows.size() == 1);
    CHECK(windows.delivered_before(from("m1", 1)));
}
