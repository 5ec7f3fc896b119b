// The routes a node has worked out, and the two decisions the hot paths take from them
// (docs/protocol.md §7, Routes and Results): whether an application message may leave and on
// which hop, and whether a forward or ack passing through goes on.
//
// A route is worked out once per destination and kept until something it depends on moves
// (membership, links, liveness, partitions, running): invalidate() then clears every route and
// moves the epoch, so a copy of the routes taken at one epoch holds until the next. Names that
// are not members are kept too (a burst to a stranger stays cheap), within a bound the caller
// gives, so a stream of invented names cannot grow it without bound. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/link.hpp"
#include "core/route_status.hpp"

namespace zpartisan::core {

// Hashes node names for maps searched with a string_view (no string built per lookup).
struct name_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

struct cached_route {
    route_status status = route_status::unknown_node;
    std::optional<link> hop;   // the next hop, if there is one
    bool hop_blocked = false;  // a partition in force forbids that hop
};

// What becomes of a forward or ack passing through.
enum class relay_verdict { forward, hop_limit, unroutable, partitioned };

class route_cache {
public:
    [[nodiscard]] const cached_route* find(std::string_view destination) const {
        const auto it = _routes.find(destination);
        return it == _routes.end() ? nullptr : &it->second;
    }
    // Keeps r for destination; past `bound` routes, the others are forgotten first.
    const cached_route& store(std::string destination, cached_route r, std::size_t bound) {
        if (_routes.size() > bound) _routes.clear();
        return _routes.insert_or_assign(std::move(destination), std::move(r)).first->second;
    }
    // Something a route depends on may have changed.
    void invalidate() {
        _routes.clear();
        ++_epoch;
    }
    [[nodiscard]] std::uint64_t epoch() const { return _epoch; }

    // An application message: ok with *hop set, or why it cannot leave now.
    static route_status app_route(const cached_route& r, link* hop) {
        if (r.status != route_status::ok) return r.status;
        if (!r.hop) return route_status::disconnected;  // (a blocked hop made the status partitioned)
        *hop = *r.hop;
        return route_status::ok;
    }
    // A routed message that took `hops` hops so far: the hop limit bounds every relayed
    // message (at most two relays are needed), then it needs a hop not cut off.
    static relay_verdict relay(const cached_route& r, std::uint8_t hops, std::uint8_t hop_limit) {
        if (hops + 1 > hop_limit) return relay_verdict::hop_limit;
        if (!r.hop) return relay_verdict::unroutable;
        if (r.hop_blocked) return relay_verdict::partitioned;
        return relay_verdict::forward;
    }

private:
    std::unordered_map<std::string, cached_route, name_hash, std::equal_to<>> _routes;
    std::uint64_t _epoch = 0;
};

}  // namespace zpartisan::core
