// The receiver's side of order (docs/protocol.md §7, Order), per origin incarnation, channel
// and lane, across losses, retransmissions and route changes.
//
// Plain messages: each frame carries its origin's count of plain frames (its id). One that
// arrives after a later one of its lane was handed over (it took an older, slower route: a
// relay that hung, then resumed) is dropped: plain messages may be lost, never reordered.
//
// Acked messages are handed over in the order their origin sent them. Each names the acked
// message its origin sent before it to the same destination on the same channel and lane
// (previous_id), and the id below which its origin has settled every message to that
// destination (settled_below: acknowledged, or given up on at its ack deadline). A message
// goes when there is no previous one, when the previous one went, or when the previous one
// is settled (it will never come, or went to an earlier life of ours). Otherwise it is held
// here, unanswered: its origin keeps retransmitting it, and each copy brings newer news of
// what is settled, until the gap fills or is known never to fill.
//
// Bounded: messages and bytes held, lanes per origin, origins tracked. A message that meets
// the bounds is left to its retransmission; one held for max_hold_ms (the ack timeout: by
// then its origin has given up on every message sent before it) goes, its gap skipped. A
// copy of a message whose lane went past it (its gap was skipped) is late and never handed
// over. Pure and single-threaded, like the rest of the core.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/messages.hpp"

namespace zpartisan::core {

class receive_order {
public:
    struct limits {
        std::size_t messages_max = 10000;   // held, over every origin
        std::size_t bytes_max = 64u << 20;  // payload bytes held, over every origin
        std::size_t lanes_per_origin_max = 1024;
        std::size_t origins_max = 65536;  // origin incarnations tracked
        std::uint64_t max_hold_ms = 5000;
    };

    enum class admission {
        now,           // its turn: hand it over, then passed()
        held,          // kept until its turn (take_ready)
        held_already,  // a copy of one held; what it says is settled was taken in
        late,          // its lane went past it: never to be handed over
        older_origin,  // from an incarnation of its origin older than one seen since
        no_room,       // the bounds are reached: left to its retransmission
    };

    // Where a message stands: its flow, lane and id.
    struct position {
        std::string origin;
        std::uint64_t origin_incarnation = 0;
        std::string channel;
        std::uint32_t lane = 0;
        std::uint64_t id = 0;
    };

    explicit receive_order(limits l) : _limits(l) {}

    // An acked message carrying order (settled_below != 0) that was not handed over before.
    // When held, msg is moved in.
    admission admit(forward& msg, std::uint64_t now_ms);
    // Its lane moves past the message admitted `now`: it was handed over, or refused (an
    // unknown handler).
    void passed(const position& at);
    // Appends the held messages whose turn came, in order, each already passed.
    void take_ready(std::vector<forward>& out);
    // take_ready, and the messages held since max_hold_ms ago go too, their gaps skipped.
    void take_overdue(std::uint64_t now_ms, std::vector<forward>& out);
    // A plain frame: false when one its origin sent after it on its lane was handed over
    // already. Sequence 0 (none) is not ordered.
    bool admit_plain(std::string_view origin, std::uint64_t origin_incarnation, std::string_view channel,
                     std::uint32_t lane, std::uint64_t sequence, std::uint64_t now_ms);
    // Forgets origins that are not members (is_member(name) false) and were not heard from
    // for linger_ms; what they had held is dropped.
    template <class IsMember>
    void forget_strangers(std::uint64_t now_ms, std::uint64_t linger_ms, IsMember&& is_member) {
        for (auto it = _flows.begin(); it != _flows.end();)
            it = !is_member(it->first.first) && now_ms >= it->second.last_used_ms + linger_ms ? erase_flow(it)
                                                                                              : std::next(it);
    }

    [[nodiscard]] std::size_t held() const { return _held; }
    // Whether take_ready() would find a turn that came (a message admitted since it last ran).
    [[nodiscard]] bool may_have_ready() const { return !_to_examine.empty(); }
    // When take_overdue() next releases a message held max_hold_ms; nullopt when none is held.
    [[nodiscard]] std::optional<std::uint64_t> next_overdue_ms() const;
    [[nodiscard]] bool empty() const { return _flows.empty(); }
    // Held now (a gauge) and what happened to held messages, by name.
    void add_counters(std::map<std::string, std::uint64_t>& into) const;

private:
    using flow_key = std::pair<std::string, std::uint64_t>;  // origin, incarnation
    using lane_key = std::pair<std::string, std::uint32_t>;  // channel, lane
    // Orders those keys, and finds them by a name given as a string_view (no string built).
    struct name_then_number {
        using is_transparent = void;
        template <class A, class B>
        bool operator()(const A& a, const B& b) const {
            const std::string_view a_name = a.first, b_name = b.first;
            return a_name < b_name || (a_name == b_name && a.second < b.second);
        }
    };
    struct lane_state {
        std::uint64_t passed = 0;  // the last acked id of this lane handed over or refused
        std::map<std::uint64_t, std::pair<forward, std::uint64_t>> held;  // id -> message, held since
        std::uint64_t plain_passed = 0;  // the last plain sequence of this lane handed over
    };
    struct flow_state {
        std::uint64_t settled_below = 0;  // the highest the origin said
        std::map<lane_key, lane_state, name_then_number> lanes;
        std::size_t held = 0;
        std::uint64_t last_used_ms = 0;
    };
    using flow_iterator = std::map<flow_key, flow_state, name_then_number>::iterator;

    [[nodiscard]] static bool ready(const flow_state& flow, const lane_state& lane, const forward& msg);
    // Pops the lane's held messages whose turn came in order, and (given now_ms) those held
    // for max_hold_ms, skipping their gaps.
    void release(flow_state& flow, lane_state& lane, std::vector<forward>& out, const std::uint64_t* now_ms = nullptr);
    void release_flow(const flow_key& key, std::vector<forward>& out, const std::uint64_t* now_ms);
    // The origin incarnation's state, made when new (ending its older incarnations'); end()
    // with older_origin set when a newer incarnation was seen.
    flow_iterator flow_of(std::string_view origin, std::uint64_t incarnation, std::uint64_t now_ms, bool& older_origin);
    flow_iterator erase_flow(flow_iterator it);
    void evict_least_recent();

    limits _limits;
    std::map<flow_key, flow_state, name_then_number> _flows;
    std::set<flow_key> _to_examine;  // flows where a turn may have come since take_ready
    std::set<flow_key> _holding;     // flows holding something
    std::size_t _held = 0;
    std::size_t _held_bytes = 0;
    std::uint64_t _held_total = 0;
    std::uint64_t _gaps_skipped = 0;
    std::uint64_t _dropped = 0;  // held, then dropped with their origin's state
    std::uint64_t _origins_evicted = 0;
};

}  // namespace zpartisan::core
