// The sender's side of acked messages (docs/protocol.md §7, Acks and Order): the ids they
// carry, the order fields that chain them per lane, and the retransmit buffer that keeps each
// one until its ack or its deadline.
//
// Ids run one after another per destination, so a receiver's duplicate window has a gap only
// for a message lost on the way. A destination's sequence starts above every id this
// incarnation handed out before (from a point drawn from the seed), so one started again after
// it was forgotten reuses none, and an ack meant for an earlier incarnation matches nothing.
//
// It decides which message is due for a copy, which is past its deadline, and which waits for
// a route; the caller sends (its send callback says whether a route took the copy) and reports.
// Pure: time comes in as now_ms.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "core/messages.hpp"

namespace zpartisan::core {

class acked_sends {
public:
    struct limits {
        std::uint64_t ack_timeout_ms = 5000;          // a message not acked by then fails
        std::uint64_t retransmit_interval_ms = 1000;  // between copies of one message
        std::size_t messages_max = 10000;             // bound on the buffer
    };
    // A message that left the buffer without its ack: its delivery report's handle and where it went.
    struct given_up {
        std::uint64_t report_id = 0;
        std::string destination;
    };

    acked_sends(limits l, std::uint64_t first_id) : _limits(l), _id_high(first_id) {}

    [[nodiscard]] bool full() const { return _pending.size() >= _limits.messages_max; }
    [[nodiscard]] std::size_t size() const { return _pending.size(); }
    [[nodiscard]] bool empty() const { return _pending.empty(); }
    // Whether the id sequences remember anyone (prune_sequences has work).
    [[nodiscard]] bool has_sequences() const { return !_last_id_to.empty(); }

    // Numbers an acked message (id, previous_id, settled_below) and keeps it until its ack;
    // routed: its first copy leaves now, else it waits for a route. Returns the handle its
    // delivery report will carry.
    std::uint64_t add(forward& msg, std::uint64_t now_ms, bool routed);
    // The ack from `from` for wire id `id`: the message leaves the buffer; nullopt when it
    // matches nothing (a duplicate ack, one for an earlier incarnation or from someone else).
    std::optional<given_up> acknowledge(const std::string& from, std::uint64_t id);
    // Every message leaves the buffer unacked (the node stopped).
    std::vector<given_up> take_all();

    // In buffer order, messages past their deadline leave (expired(given_up)); the others whose
    // last copy is retransmit_interval_ms old get another: send(msg) -> whether a route took it
    // (else it waits for a route). Returns how many copies a route took.
    template <class Send, class Expired>
    std::size_t retransmit_and_expire(std::uint64_t now_ms, Send&& send, Expired&& expired);
    // Messages waiting for a route get a copy when routes moved since they last tried
    // (route_epoch differs): returns how many a route took.
    template <class Send>
    std::size_t send_when_routed(std::uint64_t route_epoch, std::uint64_t now_ms, Send&& send);
    // When retransmit_and_expire next has work (early, never late); nullopt when empty.
    [[nodiscard]] std::optional<std::uint64_t> due_ms() const {
        return _pending.empty() ? std::nullopt : std::optional<std::uint64_t>(_due_ms);
    }
    // Whether send_when_routed would try something at this route epoch.
    [[nodiscard]] bool awaits_route_at(std::uint64_t route_epoch) const {
        return _awaiting_route > 0 && route_epoch != _awaiting_route_epoch;
    }

    // The id below which every message to destination is settled (acked or given up on).
    [[nodiscard]] std::uint64_t settled_below_for(const std::string& destination) const;
    // Forgets the sequences of destinations that are not members and have nothing waiting.
    template <class IsMember>
    void prune_sequences(IsMember&& is_member);

private:
    struct pending {
        forward msg;
        std::uint64_t last_sent_ms = 0;
        std::uint64_t deadline_ms = 0;
        bool awaiting_route = false;  // its last copy found no route: it leaves when one appears
    };
    using pending_iterator = std::map<std::uint64_t, pending>::iterator;

    std::uint64_t next_id_to(const std::string& destination);
    // Sends a copy saying what is settled now; marks it awaiting a route when none took it.
    template <class Send>
    bool send_copy(pending& p, Send& send);
    void forget(pending_iterator it);

    limits _limits;
    std::uint64_t _id_high = 0;                                     // the highest id handed out
    std::map<std::string, std::uint64_t, std::less<>> _last_id_to;  // destination -> its last id
    // (destination, channel, lane) -> the last id sent on it: the next one's previous_id.
    std::map<std::tuple<std::string, std::string, std::uint32_t>, std::uint64_t> _last_id_on_lane;
    std::uint64_t _last_report_id = 0;
    std::map<std::uint64_t, pending> _pending;  // by report id
    // (destination, wire id) -> report id: how an ack names its message.
    std::map<std::pair<std::string, std::uint64_t>, std::uint64_t, std::less<>> _by_wire_id;
    // Nothing is due before this: exact after retransmit_and_expire, lowered by add, early
    // (never late) otherwise.
    std::uint64_t _due_ms = UINT64_MAX;
    std::size_t _awaiting_route = 0;
    std::uint64_t _awaiting_route_epoch = 0;  // the route epoch they were last tried at
};

template <class Send>
bool acked_sends::send_copy(pending& p, Send& send) {
    // Each copy says what is settled now: a receiver holding it behind a message we gave up
    // on learns so from it.
    p.msg.settled_below = settled_below_for(p.msg.destination);
    const bool sent = send(std::as_const(p.msg));
    if (sent == p.awaiting_route) {
        p.awaiting_route = !sent;
        sent ? --_awaiting_route : ++_awaiting_route;
    }
    return sent;
}

template <class Send, class Expired>
std::size_t acked_sends::retransmit_and_expire(std::uint64_t now_ms, Send&& send, Expired&& expired) {
    std::size_t copies_sent = 0;
    const auto interval = _limits.retransmit_interval_ms;
    _due_ms = UINT64_MAX;
    for (auto it = _pending.begin(); it != _pending.end();) {
        auto& p = it->second;
        if (now_ms >= p.deadline_ms) {
            given_up late{it->first, p.msg.destination};
            forget(it++);
            expired(std::move(late));
            continue;
        }
        if (now_ms >= p.last_sent_ms + interval) {
            p.last_sent_ms = now_ms;
            if (send_copy(p, send)) ++copies_sent;
        }
        _due_ms = std::min({_due_ms, p.deadline_ms, p.last_sent_ms + interval});
        ++it;
    }
    return copies_sent;
}

template <class Send>
std::size_t acked_sends::send_when_routed(std::uint64_t route_epoch, std::uint64_t now_ms, Send&& send) {
    // Routes move only with the epoch: at the same epoch a message that found none still has none.
    if (!awaits_route_at(route_epoch)) return 0;
    _awaiting_route_epoch = route_epoch;
    std::size_t sent = 0;
    for (auto& [id, p] : _pending) {
        if (!p.awaiting_route || !send_copy(p, send)) continue;
        p.last_sent_ms = now_ms;
        ++sent;
    }
    return sent;
}

template <class IsMember>
void acked_sends::prune_sequences(IsMember&& is_member) {
    // A sequence started again later starts above _id_high, so forgetting one is safe once
    // nothing to its destination waits for an ack.
    std::erase_if(_last_id_to, [&](const auto& entry) {
        if (is_member(entry.first)) return false;
        const auto waiting = _by_wire_id.lower_bound(std::make_pair(entry.first, std::uint64_t{0}));
        return waiting == _by_wire_id.end() || waiting->first.first != entry.first;
    });
    // Its lanes go with it: its next life, if it comes back, hears from us afresh.
    std::erase_if(_last_id_on_lane, [&](const auto& entry) { return !_last_id_to.contains(std::get<0>(entry.first)); });
}

}  // namespace zpartisan::core
