// The partitions a node holds (docs/protocol.md §7, Partitions and Partition requests): which
// peers each cut reference keeps us from, the heals already passed on, and the requests made
// here whose origin has not confirmed its cut yet.
//
// Two kinds of cut: an origin's (partisan's HyParView semantics: the origin drops every peer
// it is connected to, and ttl more hops do the same) and a group cut (listed nodes of
// different groups stop talking). Every node passes a given heal on once; a cut arriving after
// its heal (the heal took a shorter way) is refused, or it would last for ever. The last few
// heals are kept for connections made later: a node between two homes when a heal flooded
// would miss it. It decides; the caller floods, sends and reports. Pure: time comes in as now_ms.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace zpartisan::core {

class partition_table {
public:
    explicit partition_table(std::string self_name) : _self(std::move(self_name)) {}

    // A new reference for a cut made here: unique per incarnation.
    std::string next_ref(std::uint64_t incarnation);

    // --- cuts in force ---
    [[nodiscard]] bool empty() const { return _cuts.empty() && _groups.empty(); }
    // An origin's cut is in force (a PUB cannot skip one subscriber: it publishes nothing then).
    [[nodiscard]] bool has_origin_cuts() const { return !_cuts.empty(); }
    // Whether a cut in force keeps us from peer.
    [[nodiscard]] bool cuts_off(std::string_view peer) const;
    [[nodiscard]] bool holds_cut(const std::string& ref) const { return _cuts.contains(ref); }
    [[nodiscard]] bool holds_groups(const std::string& ref) const { return _groups.contains(ref); }
    [[nodiscard]] bool healed(const std::string& ref) const { return _resolved.contains(ref); }
    // Holds an origin's cut from peers (no-op when ref is held already).
    void cut(const std::string& ref, const std::vector<std::string>& peers);
    void cut_into_groups(const std::string& ref, const std::vector<std::vector<std::string>>& groups);
    // What resolve did: first_time false when ref was healed here before (pass it on only once).
    struct heal {
        bool first_time = false;
        bool held = false;                // ref was a cut in force here
        std::set<std::string> cut_peers;  // the peers its origin's cut kept us from
    };
    heal resolve(const std::string& ref);
    // The last heals, oldest first, for a connection just made.
    [[nodiscard]] const std::deque<std::string>& recent_heals() const { return _recent_heals; }
    // (ref, peer) for each peer cut off; members: whom a group cut may name.
    struct entry {
        std::string ref;
        std::string peer;
    };
    [[nodiscard]] std::vector<entry> entries(const std::vector<std::string>& members) const;

    // --- requests made here, waiting for their origin's confirmation ---
    [[nodiscard]] bool requests_full() const { return _requests.size() >= requests_max; }
    [[nodiscard]] bool has_requests() const { return !_requests.empty(); }
    // Sent again at next_send_ms, given up at deadline_ms.
    void add_request(const std::string& ref, std::string origin, std::uint32_t ttl, std::uint64_t deadline_ms,
                     std::uint64_t next_send_ms);
    // The origin confirmed: false when answered already or given up.
    bool confirm(const std::string& ref) { return _requests.erase(ref) > 0; }
    // What a due request needs, in ref order: sent again, or given up (its cut then healed
    // wherever it reached, and the caller told it failed).
    struct due_request {
        bool give_up = false;
        std::string ref;
        std::string origin;
        std::uint32_t ttl = 0;
    };
    std::vector<due_request> take_due_requests(std::uint64_t now_ms, std::uint64_t resend_interval_ms);
    // When take_due_requests next has work; nullopt when no request waits.
    [[nodiscard]] std::optional<std::uint64_t> next_request_ms() const;

    static constexpr std::size_t resolved_max = 1024;
    static constexpr std::size_t recent_heals_max = 16;
    static constexpr std::size_t requests_max = 256;

private:
    struct request {
        std::string origin;
        std::uint32_t ttl = 0;
        std::uint64_t deadline_ms = 0;
        std::uint64_t next_send_ms = 0;
    };

    std::string _self;
    std::uint64_t _counter = 0;
    std::map<std::string, std::set<std::string, std::less<>>> _cuts;       // ref -> peers cut off
    std::map<std::string, std::vector<std::vector<std::string>>> _groups;  // ref -> groups
    std::set<std::string> _resolved;                                       // heals passed on (bounded)
    std::deque<std::string> _recent_heals;
    std::map<std::string, request> _requests;  // by ref
};

}  // namespace zpartisan::core
