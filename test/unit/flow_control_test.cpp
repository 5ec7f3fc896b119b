// Flow control alone (core/flow_control.hpp): hops as scripted queues that take or refuse
// frames, routes as a table the test moves, time as a number.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "core/flow_control.hpp"

using namespace zpartisan::core;
using core_link = zpartisan::core::link;  // not POSIX link()

namespace {
core_link hop(const std::string& name) { return {core_link::kind::accepted, name}; }

// A fake network: each hop takes up to `room[hop]` frames per retry, records what it took.
struct fake_hops {
    std::map<core_link, std::size_t> room;
    std::set<core_link> gone;
    std::map<core_link, std::vector<frame_handle>> sent;
    flow_control::send_fn send() {
        return [this](const core_link& to, frame_handle frame, bool) {
            if (gone.contains(to)) return hop_send::unreachable;
            auto& left = room[to];
            if (left == 0) return hop_send::congested;
            --left;
            sent[to].push_back(frame);
            return hop_send::ok;
        };
    }
};

struct route_table {
    std::map<std::string, std::pair<route_status, core_link>, std::less<>> routes;
    std::uint64_t epoch = 1;
    flow_control::route_lookup lookup() {
        return [this](std::string_view destination, core_link* via) {
            const auto it = routes.find(destination);
            if (it == routes.end()) return route_status::unknown_node;
            *via = it->second.second;
            return it->second.first;
        };
    }
    void move(const std::string& destination, route_status status, core_link via) {
        routes[destination] = {status, std::move(via)};
        ++epoch;
    }
};

flow_limits limits(std::size_t total, std::size_t per_hop, std::uint64_t give_up = 1000) {
    return {total, per_hop, give_up, 500};
}
}  // namespace

TEST_CASE("flow control sends each hop's frames in the order they were held") {
    flow_control flow(limits(100, 25));
    CHECK(flow.empty());
    CHECK(flow.hold(hop("a"), 1, "x", 0) == flow_control::hold_result::held_new_hop);
    CHECK(flow.hold(hop("b"), 2, "y", 0) == flow_control::hold_result::held_new_hop);
    CHECK(flow.hold(hop("a"), 3, "x", 0) == flow_control::hold_result::held);
    CHECK(flow.take_hops_changed());
    CHECK(flow.holds(hop("a")));
    CHECK_FALSE(flow.holds(hop("c")));
    CHECK(flow.held() == 3);
    fake_hops net;
    net.room[hop("a")] = 1;  // a takes one, then is full again
    CHECK(flow.retry(5, net.send()).empty());
    CHECK(net.sent[hop("a")] == std::vector<frame_handle>{1});
    CHECK(net.sent[hop("b")].empty());
    CHECK(flow.held() == 2);
    CHECK_FALSE(flow.take_hops_changed());
    net.room[hop("a")] = 10;
    net.room[hop("b")] = 10;
    CHECK(flow.retry(6, net.send()).empty());
    CHECK(net.sent[hop("a")] == std::vector<frame_handle>{1, 3});
    CHECK(net.sent[hop("b")] == std::vector<frame_handle>{2});
    CHECK(flow.empty());
    CHECK(flow.hops() == 0);
    CHECK(flow.take_hops_changed());  // the hops cleared: senders' view changes
    CHECK(flow.take_drops().empty());
}

TEST_CASE("flow control bounds the backlog per hop and in all") {
    flow_control flow(limits(5, 2));
    CHECK(flow.hold(hop("a"), 1, "x", 0) != flow_control::hold_result::dropped_backlog_full);
    CHECK(flow.hold(hop("a"), 2, "x", 0) != flow_control::hold_result::dropped_backlog_full);
    CHECK(flow.hold(hop("a"), 3, "x", 0) == flow_control::hold_result::dropped_backlog_full);  // a's share
    CHECK(flow.hold(hop("b"), 4, "y", 0) != flow_control::hold_result::dropped_backlog_full);
    CHECK(flow.hold(hop("b"), 5, "y", 0) != flow_control::hold_result::dropped_backlog_full);
    CHECK(flow.hold(hop("c"), 6, "z", 0) != flow_control::hold_result::dropped_backlog_full);
    CHECK(flow.hold(hop("d"), 7, "w", 0) == flow_control::hold_result::dropped_backlog_full);  // the total
    CHECK_FALSE(flow.holds(hop("d")));  // a hop refused its first frame holds nothing
    CHECK(flow.held() == 5);
    CHECK(flow.counters().dropped_backlog_full == 2);
}

TEST_CASE("flow control gives up on a hop that takes nothing for the budget, and progress resets the count") {
    flow_control flow(limits(100, 25, 1000));
    fake_hops net;
    REQUIRE(flow.hold(hop("a"), 1, "x", 0) == flow_control::hold_result::held_new_hop);
    REQUIRE(flow.hold(hop("a"), 2, "x", 0) == flow_control::hold_result::held);
    REQUIRE(flow.hold(hop("a"), 3, "x", 0) == flow_control::hold_result::held);
    (void)flow.take_hops_changed();
    CHECK(flow.drop_stuck_hops(999).empty());
    net.room[hop("a")] = 1;
    (void)flow.retry(900, net.send());  // one frame went at 900: the count starts again
    CHECK(flow.drop_stuck_hops(1500).empty());
    CHECK(flow.retry(1899, net.send()).empty());
    CHECK(flow.drop_stuck_hops(1899).empty());
    const auto stuck = flow.drop_stuck_hops(1900);
    REQUIRE(stuck.size() == 1);
    CHECK(stuck[0].hop == hop("a"));
    CHECK(stuck[0].frames == 2);
    CHECK(stuck[0].idle_ms == 1000);
    CHECK(flow.empty());
    CHECK(flow.take_hops_changed());
    const auto drops = flow.take_drops();
    REQUIRE(drops.size() == 2);
    CHECK(drops[0].frame == 2);
    CHECK(drops[1].frame == 3);
    CHECK(drops[0].reason == drop_reason::stuck_hop);
    CHECK(flow.counters().stalled_frames_dropped_stuck_hop == 2);
}

TEST_CASE("flow control moves frames whose route moved, ahead of newer frames for the new hop") {
    flow_control flow(limits(100, 25));
    route_table routes;
    routes.move("x", route_status::ok, hop("a"));
    routes.move("y", route_status::ok, hop("b"));
    REQUIRE(flow.hold(hop("a"), 1, "x", 0) != flow_control::hold_result::dropped_backlog_full);
    REQUIRE(flow.hold(hop("b"), 2, "y", 0) != flow_control::hold_result::dropped_backlog_full);
    REQUIRE(flow.hold(hop("a"), 3, "x", 0) != flow_control::hold_result::dropped_backlog_full);
    REQUIRE(flow.hold(hop("a"), 4, "", 0) != flow_control::hold_result::dropped_backlog_full);  // follows no route
    CHECK(flow.follow_routes(routes.epoch, routes.lookup(), 10).moved == 0);
    routes.move("x", route_status::ok, hop("b"));  // x re-homed behind b
    const auto moved = flow.follow_routes(routes.epoch, routes.lookup(), 20);
    CHECK(moved.moved == 2);
    CHECK(flow.counters().stalled_frames_rerouted == 2);
    CHECK(flow.follow_routes(routes.epoch, routes.lookup(), 30).moved == 0);  // same epoch: nothing to do
    // A frame sent to x now queues behind the moved ones.
    REQUIRE(flow.hold(hop("b"), 5, "x", 40) == flow_control::hold_result::held);
    fake_hops net;
    net.room[hop("a")] = 10;
    net.room[hop("b")] = 10;
    (void)flow.retry(50, net.send());
    CHECK(net.sent[hop("b")] == std::vector<frame_handle>{2, 1, 3, 5});
    CHECK(net.sent[hop("a")] == std::vector<frame_handle>{4});
}

TEST_CASE("flow control bounds a hop that frames move onto") {
    flow_control flow(limits(100, 2));
    route_table routes;
    for (frame_handle f = 1; f <= 2; ++f)
        REQUIRE(flow.hold(hop("a"), f, "x", 0) != flow_control::hold_result::dropped_backlog_full);
    REQUIRE(flow.hold(hop("b"), 3, "y", 0) != flow_control::hold_result::dropped_backlog_full);
    routes.move("x", route_status::ok, hop("b"));
    routes.move("y", route_status::ok, hop("b"));
    const auto moved = flow.follow_routes(routes.epoch, routes.lookup(), 5);
    CHECK(moved.moved == 1);
    CHECK(moved.over_bound == 1);
    CHECK(flow.held_for(hop("b")) == 2);
    CHECK_FALSE(flow.holds(hop("a")));
    const auto drops = flow.take_drops();
    REQUIRE(drops.size() == 1);
    CHECK(drops[0].frame == 2);
    CHECK(drops[0].reason == drop_reason::backlog_full);
    CHECK(flow.counters().dropped_backlog_full == 1);
}

TEST_CASE("flow control drops frames whose destination became partitioned") {
    flow_control flow(limits(100, 25));
    route_table routes;
    routes.move("x", route_status::ok, hop("a"));
    routes.move("y", route_status::ok, hop("a"));
    REQUIRE(flow.hold(hop("a"), 1, "x", 0) != flow_control::hold_result::dropped_backlog_full);
    REQUIRE(flow.hold(hop("a"), 2, "y", 0) != flow_control::hold_result::dropped_backlog_full);
    routes.move("x", route_status::partitioned, hop("a"));
    CHECK(flow.follow_routes(routes.epoch, routes.lookup(), 5).partitioned == 1);
    CHECK(flow.counters().stalled_frames_dropped_partitioned == 1);
    const auto drops = flow.take_drops();
    REQUIRE(drops.size() == 1);
    CHECK(drops[0].frame == 1);
    CHECK(drops[0].reason == drop_reason::partitioned);
    CHECK(flow.held() == 1);
}

TEST_CASE("flow control names a hop found unreachable and drops what is left for it") {
    flow_control flow(limits(100, 25));
    for (frame_handle f = 1; f <= 3; ++f)
        REQUIRE(flow.hold(hop("a"), f, "x", 0) != flow_control::hold_result::dropped_backlog_full);
    REQUIRE(flow.hold(hop("b"), 4, "y", 0) != flow_control::hold_result::dropped_backlog_full);
    fake_hops net;
    net.gone.insert(hop("a"));
    net.room[hop("b")] = 10;
    const auto gone = flow.retry(5, net.send());
    CHECK(gone == std::vector<core_link>{hop("a")});
    CHECK(flow.held_for(hop("a")) == 2);  // the first frame was spent on finding out
    CHECK(net.sent[hop("b")] == std::vector<frame_handle>{4});
    flow.drop_unreachable(gone);
    CHECK(flow.empty());
    CHECK(flow.counters().send_unreachable == 2);
    const auto drops = flow.take_drops();
    REQUIRE(drops.size() == 2);
    CHECK(drops[0].reason == drop_reason::unreachable);
}

TEST_CASE("flow control asks for a retry soon while hops move, seldom while they do not") {
    flow_control flow(limits(100, 25));
    CHECK_FALSE(flow.next_deadline_ms(0).has_value());
    REQUIRE(flow.hold(hop("a"), 1, "x", 1000) == flow_control::hold_result::held_new_hop);
    CHECK(flow.next_deadline_ms(1000) == 1001);
    CHECK(flow.next_deadline_ms(1099) == 1100);
    CHECK(flow.next_deadline_ms(1100) == 1100 + flow_control::idle_retry_ms);
    fake_hops net;
    net.room[hop("a")] = 1;
    (void)flow.retry(2000, net.send());
    CHECK_FALSE(flow.next_deadline_ms(2000).has_value());
}

TEST_CASE("flow control under a seeded random schedule keeps order, bounds and accounts for every frame") {
    flow_counters seen;  // over all seeds: the schedule reaches every way out
    std::size_t sent_in_all = 0;
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
        CAPTURE(seed);
        std::mt19937_64 rng(seed);
        const auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
        const std::vector<std::string> hops_named{"a", "b", "c"};
        const std::vector<std::string> destinations{"p", "q", "r", "s"};
        flow_control flow(limits(12, 5, 300));
        route_table routes;
        for (const auto& d : destinations) routes.move(d, route_status::ok, hop(hops_named[pick(3)]));
        fake_hops net;
        std::map<frame_handle, std::string> destination_of;
        std::map<std::string, frame_handle> last_sent_to;  // per destination, handles rise
        std::size_t held = 0, sent = 0, dropped = 0, refused = 0;
        frame_handle next = 0;
        std::uint64_t now = 0;
        const auto send = [&](const core_link& to, frame_handle frame, bool) {
            const auto result = net.send()(to, frame, false);
            if (result != hop_send::ok) return result;
            const auto& d = destination_of.at(frame);
            core_link via;
            CHECK(routes.lookup()(d, &via) != route_status::partitioned);  // never across a cut
            CHECK(via == to);                                              // on its route of now
            CHECK(last_sent_to[d] < frame);                                // in order per destination
            last_sent_to[d] = frame;
            ++sent;
            return result;
        };
        for (int step = 0; step < 2000; ++step) {
            now += pick(20);
            switch (pick(6)) {
                case 0:
                case 1: {
                    const auto& d = destinations[pick(destinations.size())];
                    core_link via;
                    if (routes.lookup()(d, &via) != route_status::ok) break;
                    (void)flow.follow_routes(routes.epoch, routes.lookup(), now);
                    destination_of[++next] = d;
                    if (flow.hold(via, next, d, now) == flow_control::hold_result::dropped_backlog_full)
                        ++refused;
                    else
                        ++held;
                    break;
                }
                case 2:
                    net.room[hop(hops_named[pick(3)])] += pick(4);
                    break;
                case 3: {
                    const auto& d = destinations[pick(destinations.size())];
                    routes.move(d, pick(4) == 0 ? route_status::partitioned : route_status::ok,
                                hop(hops_named[pick(3)]));
                    break;
                }
                default:
                    (void)flow.follow_routes(routes.epoch, routes.lookup(), now);
                    (void)flow.retry(now, send);
                    (void)flow.drop_stuck_hops(now);
            }
            dropped += flow.take_drops().size();
            CHECK(flow.held() <= 12);
            for (const auto& h : hops_named) CHECK(flow.held_for(hop(h)) <= 5);
            CHECK(held == sent + dropped + flow.held());
        }
        // Every hop drains or is given up on: nothing is held for ever.
        for (int step = 0; step < 100 && !flow.empty(); ++step) {
            now += 50;
            (void)flow.follow_routes(routes.epoch, routes.lookup(), now);
            (void)flow.retry(now, send);
            (void)flow.drop_stuck_hops(now);
            dropped += flow.take_drops().size();
        }
        CHECK(flow.empty());
        CHECK(held == sent + dropped);
        const auto& c = flow.counters();
        CHECK(c.dropped_backlog_full + c.stalled_frames_dropped_partitioned + c.stalled_frames_dropped_stuck_hop +
                  c.send_unreachable ==
              dropped + refused);
        seen.dropped_backlog_full += c.dropped_backlog_full;
        seen.stalled_frames_rerouted += c.stalled_frames_rerouted;
        seen.stalled_frames_dropped_partitioned += c.stalled_frames_dropped_partitioned;
        seen.stalled_frames_dropped_stuck_hop += c.stalled_frames_dropped_stuck_hop;
        sent_in_all += sent;
    }
    CHECK(sent_in_all > 1000);
    CHECK(seen.dropped_backlog_full > 0);
    CHECK(seen.stalled_frames_rerouted > 0);
    CHECK(seen.stalled_frames_dropped_partitioned > 0);
    CHECK(seen.stalled_frames_dropped_stuck_hop > 0);
}

TEST_CASE("flow control waits lane_wait_ms for a lane that is not there, then has it use the control connection") {
    flow_control flow({100, 25, 5000, 500});
    std::vector<std::pair<frame_handle, bool>> tries;
    bool lane_up = false;
    bool given_up = false;  // the transport's part: the lane's frames take the control connection
    const auto send = [&](const core_link&, frame_handle frame, bool use_control_connection) {
        tries.emplace_back(frame, use_control_connection);
        given_up = given_up || use_control_connection;
        return lane_up || given_up ? hop_send::ok : hop_send::lane_not_connected;
    };
    // The lane connects within the wait: the frames go on it.
    REQUIRE(flow.hold(hop("a"), 1, "x", 0) == flow_control::hold_result::held_new_hop);
    (void)flow.retry(1, send);
    (void)flow.retry(300, send);
    lane_up = true;
    (void)flow.retry(400, send);
    CHECK(flow.empty());
    CHECK(tries == std::vector<std::pair<frame_handle, bool>>{{1, false}, {1, false}, {1, false}});
    // It never does: after lane_wait_ms, counted from the first try that found it missing,
    // the front frame and those behind it take the control connection.
    lane_up = false;
    tries.clear();
    REQUIRE(flow.hold(hop("a"), 2, "x", 1000) == flow_control::hold_result::held_new_hop);
    REQUIRE(flow.hold(hop("a"), 3, "x", 1000) == flow_control::hold_result::held);
    (void)flow.retry(1001, send);
    (void)flow.retry(1500, send);
    CHECK(flow.held() == 2);
    (void)flow.retry(1501, send);
    CHECK(flow.empty());
    CHECK(tries == std::vector<std::pair<frame_handle, bool>>{{2, false}, {2, false}, {2, true}, {3, false}});
    // Waiting for a lane is no progress: a lane that never comes and a hop that never drains
    // are both given up on in time.
    REQUIRE(flow.hold(hop("b"), 4, "y", 2000) == flow_control::hold_result::held_new_hop);
    (void)flow.retry(2001, [](const core_link&, frame_handle, bool) { return hop_send::lane_not_connected; });
    CHECK(flow.drop_stuck_hops(7000).size() == 1);
}
