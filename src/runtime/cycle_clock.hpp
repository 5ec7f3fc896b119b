// A cheap monotonic tick for telling bursts of sends apart: the CPU's time-stamp counter
// where there is one (about 15 ns to read, against about 40 for steady_clock on this kind of
// VM; a send reads it twice), steady_clock nanoseconds elsewhere. Only short intervals are
// compared, on one machine, so an approximate rate is enough.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace zpartisan::runtime {

inline std::uint64_t cycle_now() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    return __rdtsc();
#else
    return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
#endif
}

// Ticks per microsecond, measured once per process (a 200 µs busy wait).
inline std::uint64_t cycles_per_microsecond() {
    static std::once_flag once;
    static std::uint64_t rate = 1000;
    std::call_once(once, [] {
        using clock = std::chrono::steady_clock;
        const auto started = clock::now();
        const auto first = cycle_now();
        while (clock::now() - started < std::chrono::microseconds(200)) {}
        const auto elapsed_us = std::chrono::duration<double, std::micro>(clock::now() - started).count();
        const auto measured = static_cast<double>(cycle_now() - first) / elapsed_us;
        if (measured >= 1) rate = static_cast<std::uint64_t>(measured);
    });
    return rate;
}

}  // namespace zpartisan::runtime
