// Rate limits for warnings a peer can provoke (a garbage frame, a refused hello): without
// them, anyone who reaches the port could write lines as fast as they send, and fill a disk.
// Two token buckets decide: one per (reason, peer) key, so one noisy peer is quieted while
// a first problem with another is still shown, and one per reason over all peers, so a
// peer that changes its routing id for every frame gains nothing. A line that is allowed
// again says how many of its key were suppressed meanwhile. The key table is bounded: when
// it is full, keys whose buckets are full again are forgotten, and a new peer beyond that
// shares one key per reason. Pure: the time is an argument.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace zpartisan::core {

struct log_limits {
    std::uint32_t burst_per_key = 3;            // lines about one (reason, peer) at once
    std::uint64_t refill_per_key_ms = 10'000;   // and one more per this long after that
    std::uint32_t burst_per_reason = 10;        // lines for one reason over every peer at once
    std::uint64_t refill_per_reason_ms = 1000;  // and one more per this long after that
    std::size_t max_keys = 1024;                // (reason, peer) keys remembered
};

class log_limiter {
public:
    explicit log_limiter(log_limits limits = {}) : _limits(limits) {}

    struct verdict {
        bool log = false;
        std::uint64_t suppressed_before = 0;  // lines of this key suppressed since its last one
    };
    // One call per line that would be written; write it only when verdict.log.
    [[nodiscard]] verdict admit(std::string_view reason, std::string_view peer, std::uint64_t now_ms);

    [[nodiscard]] std::uint64_t suppressed_total() const { return _suppressed_total; }
    [[nodiscard]] std::size_t keys() const { return _keys.size(); }

    // The peer name lines of a shared overflow key carry.
    static constexpr std::string_view other_peers = "(other peers)";

private:
    struct bucket {
        std::uint64_t tokens = 0;
        std::uint64_t refilled_at_ms = 0;
        bool take(std::uint32_t burst, std::uint64_t refill_ms, std::uint64_t now_ms);
        [[nodiscard]] bool available(std::uint64_t refill_ms, std::uint64_t now_ms) const;
        [[nodiscard]] bool full(std::uint32_t burst, std::uint64_t refill_ms, std::uint64_t now_ms) const;
    };
    struct key_state {
        bucket tokens;
        std::uint64_t suppressed = 0;
    };
    key_state& state_of(std::string_view reason, std::string_view peer, std::uint64_t now_ms);
    void forget_quiet_keys(std::uint64_t now_ms);

    log_limits _limits;
    std::map<std::string, key_state, std::less<>> _keys;  // reason '\n' peer
    std::map<std::string, bucket, std::less<>> _reasons;  // reasons are the code's own: few
    std::uint64_t _suppressed_total = 0;
};

}  // namespace zpartisan::core
