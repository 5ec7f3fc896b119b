// Flow control: what becomes of a data frame that cannot go out at once (docs/protocol.md §7,
// Full connections). Pure: no clock (time is an argument), no sockets, no threads. The caller
// keeps the frames' bytes; this keeps, per next hop, the frames' handles in order with each
// one's destination, and decides their fate:
//
// - Hold. A data frame that meets a full hop (the transport said congested), or that goes to a
//   hop already holding frames, waits behind them: a full connection holds up only what goes
//   through it, and one flow keeps its order. The backlog is bounded: at most held_max frames in
//   all and held_per_hop_max per hop (a quarter of it, so one hung hop cannot crowd out the
//   others); a frame over either bound is dropped (dropped_backlog_full).
// - Retry. retry() offers each hop's frames, front first, to the caller's send until the hop is
//   full again; next_deadline_ms says when to come back (every millisecond while some hop
//   moves, else every idle_retry_ms).
// - Give up. A hop that took nothing for give_up_ms (its peer hung, its connection kept) has its
//   frames dropped (stalled_frames_dropped_stuck_hop); any progress starts the count afresh.
// - Follow the routes. When the routes move (a new route epoch), a frame whose destination is
//   now reached through another hop moves there, behind what that hop already holds and ahead of
//   anything sent to it later (stalled_frames_rerouted); one whose destination became
//   partitioned is dropped, so it never crosses the partition once its hop drains
//   (stalled_frames_dropped_partitioned).
// - Unreachable. A send that finds the peer gone names its hop among retry()'s results: the
//   caller tells the peer service (on_peer_gone), lets the routes move, and then drops what is
//   still held for that hop (drop_unreachable, counted as send_unreachable).
// - Lanes. A channel's frames to an accepted peer go on that peer's lane connection, which may
//   connect after its control connection (or reconnect later). A frame whose lane is not there
//   waits, as for a full hop, up to lane_wait_ms; then retry() asks send to put it on the
//   control connection, which the caller keeps doing for that lane for the rest of the peer's
//   session (a frame on the lane could overtake those already sent on the control connection).
//
// While a hop holds frames the destinations behind it are congested to senders (holds()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/link.hpp"
#include "core/route_status.hpp"

namespace zpartisan::core {

// The caller's name for a frame whose bytes it keeps.
using frame_handle = std::uint64_t;

struct flow_limits {
    std::size_t held_max = 1;          // frames held in all (the node's send_queue_max)
    std::size_t held_per_hop_max = 1;  // frames held for one hop
    std::uint64_t give_up_ms = 1000;   // a hop that takes nothing this long is given up on
    std::uint64_t lane_wait_ms = 500;  // how long a hop's frames wait for a lane that is not there
};

// What one send of a held frame did.
enum class hop_send {
    ok,                  // gone out
    congested,           // the hop is still full: the frame stays at its front
    lane_not_connected,  // the frame's lane of the hop is not connected (yet): it stays too
    unreachable,         // the peer behind the hop is gone
    failed,              // anything else: the frame is spent (the caller counted why)
};

enum class drop_reason { backlog_full, partitioned, stuck_hop, unreachable };

struct flow_drop {
    frame_handle frame = 0;
    drop_reason reason = drop_reason::backlog_full;
};

// The counters, by the names the node reports them under.
struct flow_counters {
    std::uint64_t dropped_backlog_full = 0;
    std::uint64_t stalled_frames_rerouted = 0;
    std::uint64_t stalled_frames_dropped_partitioned = 0;
    std::uint64_t stalled_frames_dropped_stuck_hop = 0;
    std::uint64_t send_unreachable = 0;  // held frames whose hop's peer was found gone
    template <class F>
    void for_each(F&& fn) const {
        fn("dropped_backlog_full", dropped_backlog_full);
        fn("stalled_frames_rerouted", stalled_frames_rerouted);
        fn("stalled_frames_dropped_partitioned", stalled_frames_dropped_partitioned);
        fn("stalled_frames_dropped_stuck_hop", stalled_frames_dropped_stuck_hop);
        fn("send_unreachable", send_unreachable);
    }
};

class flow_control {
public:
    static constexpr std::uint64_t idle_retry_ms = 10;
    // Where a destination is reached now: ok with its hop, or why not (the peer service's app_route).
    using route_lookup = std::function<route_status(std::string_view destination, link* hop)>;
    // use_control_connection: the frame's lane was waited for long enough: from now on that
    // lane's frames take the hop's control connection.
    using send_fn = std::function<hop_send(const link& hop, frame_handle frame, bool use_control_connection)>;

    explicit flow_control(flow_limits limits) : _limits(limits) {}

    // The hot path's one check: nothing is held anywhere.
    [[nodiscard]] bool empty() const { return _held == 0; }
    // Whether frames wait for this hop (a data frame for it must queue behind them).
    [[nodiscard]] bool holds(const link& hop) const { return _held != 0 && _hops.contains(hop); }
    [[nodiscard]] std::size_t held() const { return _held; }
    [[nodiscard]] std::size_t held_for(const link& hop) const;
    [[nodiscard]] std::size_t hops() const { return _hops.size(); }
    [[nodiscard]] std::size_t most_held_for_one_hop() const;
    [[nodiscard]] const flow_limits& limits() const { return _limits; }

    enum class hold_result { held, held_new_hop, dropped_backlog_full };
    // A data frame met a full hop, or goes to a hop that holds frames. destination empty: a frame
    // that does not follow moved routes. On dropped_backlog_full the caller frees the frame.
    [[nodiscard]] hold_result hold(const link& hop, frame_handle frame, std::string_view destination,
                                   std::uint64_t now_ms);

    // Tries each hop's frames in order through send until one finds its hop full. Returns the
    // hops whose peer was found gone (see drop_unreachable); a frame send answered anything but
    // congested is no longer held, and its bytes are the caller's to free.
    std::vector<link> retry(std::uint64_t now_ms, const send_fn& send);

    struct rerouted {
        std::size_t moved = 0;       // frames now held for another hop
        std::size_t over_bound = 0;  // of those, dropped: their new hop held its share
        std::size_t partitioned = 0;
    };
    // The routes are at route_epoch: frames whose destination moved follow it (nothing to do if
    // the epoch is the one last followed, or nothing is held).
    rerouted follow_routes(std::uint64_t route_epoch, const route_lookup& route_of, std::uint64_t now_ms);
    // Whether follow_routes has anything to do at this epoch (a check cheap enough for every frame).
    [[nodiscard]] bool routes_to_follow(std::uint64_t route_epoch) const {
        return _held != 0 && _followed_epoch != route_epoch;
    }

    // Drops what is still held for these hops, whose peers were found gone.
    void drop_unreachable(const std::vector<link>& gone);

    struct stuck_hop {
        link hop;
        std::size_t frames = 0;
        std::uint64_t idle_ms = 0;
    };
    // Drops the frames of every hop that took nothing for give_up_ms.
    std::vector<stuck_hop> drop_stuck_hops(std::uint64_t now_ms);

    // The frames dropped since the last call, for the caller to free.
    [[nodiscard]] std::vector<flow_drop> take_drops() { return std::exchange(_drops, {}); }
    // True once after a hop started or stopped holding frames: senders' view of which
    // destinations are congested needs refreshing.
    [[nodiscard]] bool take_hops_changed() { return std::exchange(_hops_changed, false); }
    [[nodiscard]] const flow_counters& counters() const { return _counters; }
    // When retry() is next due; nullopt while nothing is held.
    [[nodiscard]] std::optional<std::uint64_t> next_deadline_ms(std::uint64_t now_ms) const;

private:
    struct held_frame {
        frame_handle frame = 0;
        std::string destination;
    };
    struct hop_queue {
        std::deque<held_frame> frames;
        std::uint64_t progress_ms = 0;                    // when the hop last took a frame (or began to hold)
        std::optional<std::uint64_t> lane_awaited_since;  // its front frame's lane is not there
    };
    void drop_hop(std::map<link, hop_queue>::iterator hop, drop_reason reason);

    flow_limits _limits;
    std::map<link, hop_queue> _hops;
    std::size_t _held = 0;
    std::uint64_t _last_progress_ms = 0;  // any hop's
    std::optional<std::uint64_t> _followed_epoch;
    std::vector<flow_drop> _drops;
    bool _hops_changed = false;
    flow_counters _counters;
};

}  // namespace zpartisan::core
