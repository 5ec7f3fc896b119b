// Deadlines that stretch in slow builds. A sanitizer build runs the same code several times
// slower, so `make test-asan` and `make test-tsan` set ZPARTISAN_TEST_TIME_SCALE (a whole
// number, 1 when unset) and every deadline a test waits for is multiplied by it; a normal build
// keeps its tight deadlines. Bounds that say how *early* something may happen (at least 300 ms)
// are never scaled: slowness cannot make them fail.
#pragma once

#include <chrono>
#include <cstdlib>

namespace zpartisan::test {

inline int time_scale() {
    static const int scale = [] {
        const char* text = std::getenv("ZPARTISAN_TEST_TIME_SCALE");
        const int parsed = text ? std::atoi(text) : 1;
        return parsed >= 1 ? parsed : 1;
    }();
    return scale;
}

// An upper bound on how long something may take, stretched by the build's time scale.
template <class Rep, class Period>
std::chrono::milliseconds scaled(std::chrono::duration<Rep, Period> bound) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(bound) * time_scale();
}

}  // namespace zpartisan::test
