#include "daemon/heap_trim.hpp"

#include <algorithm>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

// A sanitizer's allocator replaces glibc's: mallinfo2 would not see its heap, nor malloc_trim
// trim it.
#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 33) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define ZPARTISAN_HEAP_TRIM 1
#else
#define ZPARTISAN_HEAP_TRIM 0
#endif

namespace zpartisan::daemon {

bool heap_trimmer::supported() { return ZPARTISAN_HEAP_TRIM != 0; }

void use_few_malloc_arenas() {
#if ZPARTISAN_HEAP_TRIM
    // glibc gives each thread that allocates an arena of its own (up to 8 per core), each
    // keeping its own free pages; the daemon's threads allocate little, and mostly the reactor.
    mallopt(M_ARENA_MAX, 2);
#endif
}

std::size_t heap_trimmer::live_heap_bytes() {
#if ZPARTISAN_HEAP_TRIM
    // Walks every arena's free lists under its lock: cheap next to a trim (no system calls),
    // which is why it decides whether to trim.
    return mallinfo2().uordblks;
#else
    return 0;
#endif
}

bool heap_trimmer::observe(std::size_t live_bytes, clock::time_point now) {
    _peak = std::max(_peak, live_bytes);
    if (_last_trim && now - *_last_trim < _policy.min_gap) return false;
    const auto drop = _peak - live_bytes;
    const auto divisor = std::max<std::size_t>(_policy.min_drop_divisor, 1);
    return drop >= std::max(_policy.min_drop_bytes, _peak / divisor);
}

void heap_trimmer::trimmed(std::size_t live_bytes, clock::time_point now) {
    // The peak starts again from what is live now: the next trim waits for the next fall.
    _peak = live_bytes;
    _last_trim = now;
}

std::optional<heap_trim_report> heap_trimmer::poll(clock::time_point now) {
    if (!supported()) return std::nullopt;
    if (_next_check && now < *_next_check) return std::nullopt;
    _next_check = now + _policy.check_every;
    const auto live = live_heap_bytes();
    if (!observe(live, now)) return std::nullopt;
    heap_trim_report report{_peak, live};
#if ZPARTISAN_HEAP_TRIM
    const auto began = clock::now();
    report.released = malloc_trim(0) != 0;
    report.took = std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - began);
#endif
    trimmed(live, now);
    return report;
}

}  // namespace zpartisan::daemon
