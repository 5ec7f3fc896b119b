// Smaller workloads for slow builds. A sanitizer build runs every test several times slower,
// so `make test-asan` and `make test-tsan` set ZPARTISAN_TEST_WORKLOAD=small and the tests
// whose cost is repetition (seeds, soak-like load) do less of it; every code path still runs.
#pragma once

#include <cstdlib>
#include <cstring>

namespace zpartisan::test {

inline bool small_workload() {
    static const bool small = [] {
        const char* text = std::getenv("ZPARTISAN_TEST_WORKLOAD");
        return text != nullptr && std::strcmp(text, "small") == 0;
    }();
    return small;
}

}  // namespace zpartisan::test
