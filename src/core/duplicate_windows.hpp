// The receiver's memory of the acked messages it handed over (docs/protocol.md §7, Acks), per
// origin incarnation: a copy retransmitted because our ack was lost is a duplicate, answered
// again but never handed over twice.
//
// A window is the id up to which everything was delivered plus the delivered ids above it, as
// ranges: its size is the number of gaps (messages lost on the way, each one its sender still
// holds unacked). An origin's new incarnation (a restart) drops the windows of its older ones:
// their senders' retransmit buffers died with them, and a late copy from one of them is
// recognised as such. Bounded: gaps per window, and windows of senders that are not members;
// those linger a while after their last message, longer than any retransmission lasts.
// Pure: time comes in as now_ms, membership as a predicate.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "core/dot_context.hpp"
#include "core/messages.hpp"

namespace zpartisan::core {

class duplicate_windows {
public:
    struct limits {
        std::size_t strangers_max = 4096;  // windows of senders not members
        std::size_t gaps_max = 65536;      // per window; past it the oldest gap is given up
        // A sender no longer a member keeps its window this long after its last message.
        std::uint64_t linger_ms = 600'000;
    };

    explicit duplicate_windows(limits l) : _limits(l) {}

    // Whether (origin, incarnation, id) was handed over already (a later copy is a duplicate).
    [[nodiscard]] bool delivered_before(const forward& msg) const;
    // An acked forward from an incarnation of its origin older than one we have a window for.
    [[nodiscard]] bool from_older_incarnation(const forward& msg) const;
    // Records that msg was handed over; is_member(name) says whether its origin is a member.
    template <class IsMember>
    void record(const forward& msg, std::uint64_t now_ms, IsMember&& is_member);
    // Forgets the windows of senders that are not members and lingered long enough.
    template <class IsMember>
    void prune(std::uint64_t now_ms, IsMember&& is_member) {
        std::erase_if(_windows, [&](const auto& entry) {
            return !is_member(entry.first.first) && now_ms >= entry.second.last_used_ms + _limits.linger_ms;
        });
    }

    [[nodiscard]] bool empty() const { return _windows.empty(); }
    [[nodiscard]] std::size_t size() const { return _windows.size(); }
    // The senders remembered (a gauge), gaps given up and windows evicted, where not zero.
    void add_counters(std::map<std::string, std::uint64_t>& into) const;

private:
    using key = std::pair<std::string, std::uint64_t>;  // origin, incarnation
    struct window {
        std::uint64_t contiguous = 0;  // every id up to this one was delivered
        interval_set above;            // delivered ids beyond it
        std::uint64_t last_used_ms = 0;
    };
    using window_iterator = std::map<key, window, std::less<>>::iterator;

    // Makes the window of msg's origin incarnation, dropping those of its older incarnations.
    template <class IsMember>
    window_iterator window_of(const forward& msg, IsMember& is_member);
    // Past strangers_max windows of non-members, the one heard from longest ago goes.
    template <class IsMember>
    void evict_stranger_if_full(const key& keep, IsMember& is_member);
    void add(window& w, std::uint64_t id);

    limits _limits;
    std::map<key, window, std::less<>> _windows;
    std::uint64_t _gaps_given_up = 0;
    std::uint64_t _evicted = 0;
};

template <class IsMember>
void duplicate_windows::record(const forward& msg, std::uint64_t now_ms, IsMember&& is_member) {
    auto& w = window_of(msg, is_member)->second;
    w.last_used_ms = now_ms;
    add(w, msg.id);
}

template <class IsMember>
duplicate_windows::window_iterator duplicate_windows::window_of(const forward& msg, IsMember& is_member) {
    auto [found, created] = _windows.try_emplace(std::make_pair(msg.origin, msg.origin_incarnation));
    if (created) {
        _windows.erase(_windows.lower_bound(std::make_pair(msg.origin, std::uint64_t{0})), found);
        if (!is_member(msg.origin)) evict_stranger_if_full(found->first, is_member);
    }
    return found;
}

template <class IsMember>
void duplicate_windows::evict_stranger_if_full(const key& keep, IsMember& is_member) {
    std::size_t strangers = 0;
    auto oldest = _windows.end();
    for (auto it = _windows.begin(); it != _windows.end(); ++it) {
        if (it->first == keep || is_member(it->first.first)) continue;
        ++strangers;
        if (oldest == _windows.end() || it->second.last_used_ms < oldest->second.last_used_ms) oldest = it;
    }
    if (strangers < _limits.strangers_max || oldest == _windows.end()) return;
    _windows.erase(oldest);
    ++_evicted;
}

}  // namespace zpartisan::core
