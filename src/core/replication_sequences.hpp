// The numbers that let membership replication notice what PUB/SUB lost (docs/protocol.md §4),
// and the pace of the anti-entropy rounds that repair what it lost without noticing.
//
// A server numbers each delta it publishes, per stream (mesh, clients); its beacons repeat the
// last number. A subscriber follows each publisher's number: a delta that is not the next one,
// or a beacon that does not repeat the last one, is a gap, and the subscriber asks that
// publisher for a full sync. Always following the publisher (one TCP stream keeps its order)
// means a smaller number is a restart, which counts from zero again. Every gossip interval a
// node sends one peer its digest: whole while its state moved since the last round (the cluster
// is out of step anyway, so the peer answers with what we lack at once), else only the
// fingerprint (in step, nothing follows). It decides; the caller sends. Pure: time is now_ms.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/link.hpp"

namespace zpartisan::core {

class replication_sequences {
public:
    explicit replication_sequences(std::uint64_t gossip_interval_ms) : _gossip_interval_ms(gossip_interval_ms) {}

    // --- our streams (servers) ---
    // The number of the next delta published on `to`.
    std::uint64_t next_published(effect::stream to) { return ++(to == effect::stream::mesh ? _mesh : _clients); }
    // The last number published on `to`: what a beacon repeats and a welcome or sync names.
    [[nodiscard]] std::uint64_t published(effect::stream to) const {
        return to == effect::stream::mesh ? _mesh : _clients;
    }

    // --- publishers we subscribe to ---
    // A delta (is_delta) or a beacon numbered seq from publisher: true when it shows a gap
    // (we missed something, or never heard from it); either way its number is followed.
    bool observe(const std::string& publisher, std::uint64_t seq, bool is_delta);
    // A welcome or sync answer brought publisher's state as of seq: follow from there.
    void follow(const std::string& publisher, std::uint64_t seq) { _seen[publisher] = seq; }

    // --- anti-entropy rounds ---
    void start_gossip(std::uint64_t now_ms) { _next_gossip_ms = now_ms + _gossip_interval_ms; }
    [[nodiscard]] std::uint64_t next_gossip_ms() const { return _next_gossip_ms; }
    // True at or after next_gossip_ms: a round is due, and the next one is scheduled.
    bool take_gossip_round(std::uint64_t now_ms) {
        if (now_ms < _next_gossip_ms) return false;
        _next_gossip_ms = now_ms + _gossip_interval_ms;
        return true;
    }
    // Whether this round's digest is whole: our state (its fingerprint) moved since the last
    // round that sent one.
    [[nodiscard]] bool moved_since_gossip(std::uint64_t fingerprint) const {
        return fingerprint != _fingerprint_at_last_gossip;
    }
    // The round sent a peer the digest of our state as of fingerprint.
    void gossiped(std::uint64_t fingerprint) { _fingerprint_at_last_gossip = fingerprint; }

private:
    std::uint64_t _gossip_interval_ms;
    std::uint64_t _mesh = 0;                     // our PUB sequence on the mesh stream; +1 per delta
    std::uint64_t _clients = 0;                  // the same on the clients stream
    std::map<std::string, std::uint64_t> _seen;  // per publisher: the last number received
    std::uint64_t _next_gossip_ms = 0;
    std::uint64_t _fingerprint_at_last_gossip = 0;
};

}  // namespace zpartisan::core
