// The failure detector as a table of ticks and messages with the transitions they cause.
#include <catch2/catch.hpp>

#include "core/failure_detector.hpp"

using zpartisan::core::failure_detector;

namespace {
// One step of a scenario: at time_ms, either a message from the peer, a lost connection, or
// a tick; `expect` is what the tick reports ("" nothing, "down", "up" for a heard).
struct step {
    std::uint64_t time_ms;
    const char* what;  // "tick", "heard", "lost"
    const char* expect;
};

void run(failure_detector& detector, const std::vector<step>& steps) {
    for (const auto& s : steps) {
        CAPTURE(s.time_ms, s.what);
        std::string got;
        if (std::string(s.what) == "tick") {
            auto transitions = detector.tick(s.time_ms);
            REQUIRE(transitions.size() <= 1);
            if (!transitions.empty()) got = transitions.front().up ? "up" : "down";
        } else if (std::string(s.what) == "heard") {
            auto transition = detector.heard("p", s.time_ms);
            if (transition) got = transition->up ? "up" : "down";
        } else {
            detector.connection_lost("p", s.time_ms);
        }
        CHECK(got == s.expect);
    }
}
}  // namespace

TEST_CASE("a silent peer fails after X missed heartbeats, once", "[failure_detector]") {
    failure_detector detector(100, 3);
    detector.watch("p", 0);
    run(detector, {{99, "tick", ""},
                   {150, "heard", ""},
                   {349, "tick", ""},
                   {449, "tick", ""},
                   {450, "tick", "down"},
                   {460, "tick", ""},
                   {900, "tick", ""}});
    CHECK_FALSE(detector.is_up("p"));
}

TEST_CASE("a failed peer heard again comes back up, once", "[failure_detector]") {
    failure_detector detector(100, 3);
    detector.watch("p", 0);
    run(detector,
        {{300, "tick", "down"}, {310, "heard", "up"}, {320, "heard", ""}, {500, "tick", ""}, {620, "tick", "down"}});
}

TEST_CASE("a lost connection fails the peer within one interval unless it is heard", "[failure_detector]") {
    failure_detector detector(100, 5);
    detector.watch("p", 0);
    run(detector, {{10, "lost", ""}, {60, "tick", ""}, {110, "tick", "down"}});

    failure_detector recovering(100, 5);
    recovering.watch("p", 0);
    run(recovering, {{10, "lost", ""}, {50, "heard", ""}, {110, "tick", ""}, {499, "tick", ""}, {550, "tick", "down"}});
}

TEST_CASE("the detector reports how long the peer was silent", "[failure_detector]") {
    failure_detector detector(100, 3);
    detector.watch("p", 0);
    (void)detector.heard("p", 40);
    const auto transitions = detector.tick(400);
    REQUIRE(transitions.size() == 1);
    CHECK(transitions[0].last_heard_ms == 40);
    CHECK(transitions[0].missed == 3);
    CHECK_FALSE(transitions[0].connection_lost);
    CHECK(detector.last_heard_ms("p") == 40);
}

TEST_CASE("unknown and unwatched peers are ignored", "[failure_detector]") {
    failure_detector detector(100, 3);
    CHECK_FALSE(detector.heard("ghost", 10));
    detector.connection_lost("ghost", 10);
    CHECK(detector.tick(1000).empty());
    detector.watch("p", 0);
    detector.unwatch("p");
    CHECK(detector.tick(1000).empty());
    CHECK_FALSE(detector.is_up("p"));
}
