// The one way tests wait: poll a condition until a deadline (stretched by the build's time
// scale), and on failure say what was awaited. No fixed sleeps anywhere in the suite.
#pragma once

#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "time_scale.hpp"

namespace zpartisan::test {

inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds deadline = std::chrono::seconds(15)) {
    const auto until = std::chrono::steady_clock::now() + scaled(deadline);
    while (std::chrono::steady_clock::now() < until) {
        if (condition()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return condition();
}

}  // namespace zpartisan::test

// Fails the test with the condition's description if it does not hold before the deadline.
#define WAIT_FOR(description, condition_expr, ...)                                                      \
    do {                                                                                                \
        const bool zp_waited_ok =                                                                       \
            ::zpartisan::test::eventually([&] { return (condition_expr); } __VA_OPT__(, ) __VA_ARGS__); \
        if (!zp_waited_ok) FAIL("timed out waiting for: " << (description));                            \
        SUCCEED(description);                                                                           \
    } while (false)
