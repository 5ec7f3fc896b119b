// Gives the heap memory that connections left behind back to the system.
//
// Why: each TCP connection costs libzmq about 66 KB of heap (the ZMTP engine's batch buffers,
// the pipes' message chunks). A server's connections come and go with its clients: under churn
// a server holds, for a while, the clients of a stopped or cut-off server too, then they move
// back. glibc keeps what those connections freed (holes between blocks still in use, which no
// heap-top trim reaches), so the resident size stays at the peak of connections ever held
// rather than following the connections held now. malloc_trim(0) hands such free pages back.
//
// When: only after the live heap fell clearly below its peak since the last trim (many
// connections closed), and not more often than min_gap. A periodic trim regardless would hand
// back pages a steady load reuses at once (paying a page fault for each on its next use), and
// a trim holds each malloc arena's lock while it walks its free blocks.
//
// glibc only; elsewhere poll() does nothing. The daemon's choice, not the library's: an
// application embedding zpartisan owns its allocator policy.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace zpartisan::daemon {

// At most two malloc arenas for the whole process (glibc; elsewhere nothing): an idle daemon
// then holds less memory per thread. Called before the first thread starts.
void use_few_malloc_arenas();

struct heap_trim_policy {
    std::chrono::milliseconds check_every{1000};  // how often the live heap is read
    std::chrono::milliseconds min_gap{5000};      // between two trims
    // A trim follows a fall of the live heap from its peak since the last trim by at least
    // this much, and by at least peak / min_drop_divisor (in a large heap a small fall is
    // ordinary traffic, which the next messages fill again).
    std::size_t min_drop_bytes = std::size_t{1} << 20;
    std::size_t min_drop_divisor = 4;
};

struct heap_trim_report {
    std::size_t peak_live_bytes = 0;  // the live heap's peak since the previous trim
    std::size_t live_bytes = 0;       // when this trim began
    bool released = false;            // malloc_trim said it gave memory back
    std::chrono::microseconds took{0};
};

class heap_trimmer {
public:
    using clock = std::chrono::steady_clock;
    explicit heap_trimmer(heap_trim_policy policy = {}) : _policy(policy) {}

    // Reads the live heap when check_every has passed and trims when the policy says so;
    // the report of the trim when there was one.
    std::optional<heap_trim_report> poll(clock::time_point now);

    // The decision alone (poll feeds it the heap's live bytes): true when a trim is due now.
    // A trim then must be reported with trimmed().
    bool observe(std::size_t live_bytes, clock::time_point now);
    void trimmed(std::size_t live_bytes, clock::time_point now);
    [[nodiscard]] std::size_t peak_live_bytes() const { return _peak; }

    // Whether this build can read the heap and trim it (glibc, no sanitizer's allocator).
    static bool supported();
    // Bytes in use in the malloc arenas (mallinfo2's uordblks); 0 when not supported.
    static std::size_t live_heap_bytes();

private:
    heap_trim_policy _policy;
    std::size_t _peak = 0;
    std::optional<clock::time_point> _next_check;
    std::optional<clock::time_point> _last_trim;
};

}  // namespace zpartisan::daemon
