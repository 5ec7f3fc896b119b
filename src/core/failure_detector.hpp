// Liveness of the peers this node talks to directly (docs/protocol.md §5): heartbeats every
// heartbeat_interval_ms, any message counts as one; missing `missed_max` in a row means
// failed. A closed connection makes the peer suspect at once: unless it is heard again
// within one interval it is failed (a crashed process is seen in ~1 interval, a hung one in
// X). Pure: time comes in as numbers, transitions go out as values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace zpartisan::core {

struct liveness_transition {
    std::string peer;
    bool up = false;
    std::uint64_t last_heard_ms = 0;
    std::uint32_t missed = 0;      // heartbeat intervals without a word when it went down
    bool connection_lost = false;  // the transport saw the connection close
};

class failure_detector {
public:
    failure_detector(std::uint64_t heartbeat_interval_ms, std::uint32_t missed_max)
        : _interval_ms(heartbeat_interval_ms), _missed_max(missed_max) {}

    // Starts watching peer (counts as heard now). No transition: the caller decides what a
    // new peer means.
    void watch(const std::string& peer, std::uint64_t now_ms);
    void unwatch(const std::string& peer) { _peers.erase(peer); }
    [[nodiscard]] bool watching(const std::string& peer) const { return _peers.contains(peer); }

    // Any message from peer. Returns the up transition when it was failed.
    std::optional<liveness_transition> heard(const std::string& peer, std::uint64_t now_ms);
    // The transport saw the connection to peer close: suspect now, failed unless heard
    // again within one interval.
    void connection_lost(const std::string& peer, std::uint64_t now_ms);
    // Peers that crossed into failed since the last call.
    std::vector<liveness_transition> tick(std::uint64_t now_ms);
    // When tick() next fails a peer unless it is heard from first; nullopt when no watched
    // peer is up.
    [[nodiscard]] std::optional<std::uint64_t> next_failure_ms() const;

    [[nodiscard]] bool is_up(const std::string& peer) const;
    [[nodiscard]] std::uint64_t last_heard_ms(const std::string& peer) const;
    [[nodiscard]] std::vector<std::string> peers() const;

private:
    struct peer_state {
        std::uint64_t last_heard_ms = 0;
        std::optional<std::uint64_t> lost_at_ms;  // connection closed and not heard since
        bool up = true;
    };

    std::uint64_t _interval_ms;
    std::uint32_t _missed_max;
    std::map<std::string, peer_state> _peers;
};

}  // namespace zpartisan::core
