// The protocol state machine driven through the deterministic simulated network.
#include <catch2/catch.hpp>

#include "sim/sim_network.hpp"
#include "unit/two_servers.hpp"

using namespace zpartisan;
using namespace zpartisan::test;

TEST_CASE("servers mesh and clients attach through the pure core", "[peer_service]") {
    sim::sim_network net(42);
    net.add("s1", role::server);
    net.add("s2", role::server);
    net.add("s3", role::server);
    net.add("c1", role::client);
    net.add("c2", role::client);
    net.node("s2").join(net.router_of("s1"), 0);
    net.node("s3").join(net.router_of("s2"), 0);
    net.node("c1").join(net.router_of("s3"), 0);
    net.run_rounds(20);
    net.node("c2").join(net.router_of("c1"), 0);  // referred to s3
    net.run_rounds(50);

    const std::vector<std::string> all{"c1", "c2", "s1", "s2", "s3"};
    CHECK(net.converged(all));
    for (const auto* name : {"s1", "s2", "s3", "c1", "c2"}) {
        INFO(name);
        CHECK(net.node(name).settled());
    }
    CHECK(net.node("s1").dials().size() == 2);
    CHECK(net.node("c2").dials().size() == 1);
    CHECK(net.node("c2").self().home_server == "s3");
    CHECK(net.node("c2").outcome_of_join(net.router_of("c1"))->status == core::join_status::joined);
}

TEST_CASE("a client with no server yet cannot refer, and the joiner is told so", "[peer_service]") {
    sim::sim_network net(3);
    net.add("c1", role::client);
    net.add("c2", role::client);
    net.node("c2").join(net.router_of("c1"), 0);
    net.run_rounds(10);
    const auto outcome = net.node("c2").outcome_of_join(net.router_of("c1"));
    REQUIRE(outcome);
    CHECK(outcome->status == core::join_status::refused);
    CHECK_THAT(outcome->reason, Catch::Contains("without a server"));
    CHECK(net.node("c1").membership().members() == std::vector<std::string>{"c1"});
}

TEST_CASE("membership converges under 20% loss once faults stop", "[peer_service]") {
    const std::uint64_t seed = GENERATE(1u, 2u, 3u);
    CAPTURE(seed);
    sim::sim_network net(seed, sim::faults{0.2, 0.0, 0, 0});
    std::vector<std::string> all;
    for (int i = 1; i <= 3; ++i) {
        net.add("s" + std::to_string(i), role::server);
        all.push_back("s" + std::to_string(i));
    }
    for (int i = 1; i <= 9; ++i) {
        net.add("c" + std::to_string(i), role::client);
        all.push_back("c" + std::to_string(i));
    }
    std::sort(all.begin(), all.end());
    net.node("s2").join(net.router_of("s1"), 0);
    net.node("s3").join(net.router_of("s1"), 0);
    for (int i = 1; i <= 9; ++i)
        net.node("c" + std::to_string(i)).join(net.router_of("s" + std::to_string(1 + i % 3)), 0);
    net.run_rounds(200);
    net.set_faults({});
    net.run_rounds(200);
    CHECK(net.converged(all));
}

TEST_CASE("leave(name) removes a client everywhere and the client stops", "[peer_service]") {
    sim::sim_network net(7);
    net.add("s1", role::server);
    net.add("s2", role::server);
    net.add("c1", role::client);
    net.node("s2").join(net.router_of("s1"), 0);
    net.node("c1").join(net.router_of("s2"), 0);
    net.run_rounds(30);
    REQUIRE(net.converged({"c1", "s1", "s2"}));
    CHECK(net.node("s1").remove_member("c1", 0));
    net.run_rounds(30);
    CHECK_FALSE(net.node("c1").running());
    CHECK(net.converged({"s1", "s2"}));
}

TEST_CASE("the hot paths route like the core: relay hops, hop limit, partitions, unknown names",
          "[peer_service][routing]") {
    sim::sim_network net(5);
    converged_two_servers_two_clients(net);
    auto& s1 = net.node("s1");
    const core::link from_c1{core::link::kind::accepted, "c1"};

    // c1 -> s1 -> s2 -> c2: s1 passes it to s2, over its own dial.
    auto hop = s1.relay_hop(from_c1, "c2", 0, false, 0);
    REQUIRE(hop);
    CHECK(hop->via == core::link::kind::dialed);
    CHECK(hop->id == net.router_of("s2"));
    // s2 hands it to its own client on its ROUTER.
    const auto last = net.node("s2").relay_hop({core::link::kind::dialed, net.router_of("s1")}, "c2", 1, false, 0);
    REQUIRE(last);
    CHECK(last->via == core::link::kind::accepted);
    CHECK(last->id == "c2");

    CHECK_FALSE(s1.relay_hop(from_c1, "c2", core::max_hops, false, 0));
    CHECK(s1.counters()["dropped_hop_limit"] == 1);
    CHECK_FALSE(s1.relay_hop(from_c1, "nobody", 0, true, 0));
    CHECK(s1.counters()["dropped_unroutable"] == 1);

    core::link app_hop;
    CHECK(net.node("c1").app_route("c2", &app_hop) == core::route_status::ok);
    CHECK(app_hop.via == core::link::kind::dialed);
    CHECK(app_hop.id == net.router_of("s1"));  // a client sends everything to its home
    CHECK(net.node("c1").app_route("nobody", &app_hop) == core::route_status::unknown_node);

    // A partition in force changes the cached answers at once.
    s1.partition_into_groups({{"s1", "c1"}, {"s2", "c2"}});
    CHECK_FALSE(s1.relay_hop(from_c1, "c2", 0, false, 0));
    CHECK(s1.app_route("c2", &app_hop) == core::route_status::partitioned);
    CHECK(s1.app_route("c1", &app_hop) == core::route_status::ok);
}

TEST_CASE("a decoded forward passing through is relayed by the same rule as one read in place",
          "[peer_service][routing]") {
    sim::sim_network net(6);
    converged_two_servers_two_clients(net);
    auto& s1 = net.node("s1");
    const core::link from_c1{core::link::kind::accepted, "c1"};
    const auto passing = [] {
        return core::forward{"c1", 1, "c2", "work", core::delivery_kind::forward, "default", 0, 0, 0, false, "", "x"};
    };
    (void)s1.take_output();
    s1.on_message(from_c1, passing(), net.now_ms());
    const auto relayed = forwards_sent(s1);
    REQUIRE(relayed.size() == 1);
    CHECK(relayed[0].hops == 1);

    // Cut off from the next hop: both paths drop it and count it the same way.
    s1.partition_into_groups({{"s1", "c1"}, {"s2", "c2"}});
    (void)s1.take_output();
    CHECK_FALSE(s1.relay_hop(from_c1, "c2", 0, false, net.now_ms()));
    CHECK(s1.counters()["dropped_partitioned_out"] == 1);
    s1.on_message(from_c1, passing(), net.now_ms());
    CHECK(forwards_sent(s1).empty());
    CHECK(s1.counters()["dropped_partitioned_out"] == 2);
}

TEST_CASE("a plain forward for us is admitted like on_message would: handlers, partitions, a stopped node",
          "[peer_service][routing]") {
    sim::sim_network net(5);
    converged_two_servers_two_clients(net);
    auto& s2 = net.node("s2");
    s2.register_handler("work");
    const core::link from_s1{core::link::kind::accepted, "s1"};

    CHECK(s2.admit_local_delivery(from_s1, {.origin = "s1", .handler = "work", .entries = 0}, net.now_ms()));
    CHECK(s2.counters()["received_forward"] == 1);
    // An unknown handler drops every message it carries: a bundle of three counts three.
    CHECK_FALSE(s2.admit_local_delivery(from_s1, {.origin = "s1", .handler = "nobody", .entries = 3}, net.now_ms()));
    CHECK(s2.counters()["dropped_unknown_handler"] == 3);
    // The decoded path agrees: the same message through on_message is dropped the same way.
    core::forward unknown{"s1", 1, "s2", "nobody", core::delivery_kind::forward, "default", 0, 0, 0, false, "", "x"};
    s2.on_message(from_s1, unknown, net.now_ms());
    CHECK(s2.counters()["dropped_unknown_handler"] == 4);

    s2.partition_into_groups({{"s1", "c1"}, {"s2", "c2"}});
    CHECK_FALSE(s2.admit_local_delivery(from_s1, {.origin = "s1", .handler = "work", .entries = 0}, net.now_ms()));
    CHECK(s2.counters()["dropped_partitioned_in"] == 1);
    CHECK(s2.admit_local_delivery({core::link::kind::accepted, "c2"}, {.origin = "c2", .handler = "work", .entries = 0},
                                  net.now_ms()));
    // Through a relay on our side of the cut, from a node on the other: dropped too, plain or
    // acked (not handled, not answered).
    CHECK_FALSE(s2.admit_local_delivery({core::link::kind::accepted, "c2"},
                                        {.origin = "c1", .handler = "work", .entries = 0}, net.now_ms()));
    CHECK(s2.counters()["dropped_partitioned_in"] == 2);
    (void)s2.take_output();
    s2.on_message({core::link::kind::accepted, "c2"},
                  core::forward{"c1", 1, "s2", "work", core::delivery_kind::forward, "default", 0, 1, 7, true, "", "x"},
                  net.now_ms());
    CHECK(s2.counters()["dropped_partitioned_in"] == 3);
    for (const auto& effect : s2.take_output()) {
        CHECK_FALSE(std::holds_alternative<core::effect::deliver>(effect));
        CHECK_FALSE(std::holds_alternative<core::effect::send>(effect));
    }

    s2.leave(net.now_ms());
    CHECK_FALSE(s2.admit_local_delivery({core::link::kind::accepted, "c2"},
                                        {.origin = "c2", .handler = "work", .entries = 0}, net.now_ms()));
    CHECK(s2.counters()["dropped_stopped"] >= 1);
}

namespace {

using route_table = std::map<std::string, core::route_status>;

route_table routes_of(const core::peer_service& node) {
    route_table out;
    node.for_each_route_status([&](const std::string& name, core::route_status status) { out.emplace(name, status); });
    return out;
}

// The runtime recomputes its senders' copy of the routes only when route_epoch() moves: a
// route that changes while the epoch stands still would be served stale indefinitely.
struct epoch_watch {
    std::map<std::string, std::pair<std::uint64_t, route_table>> last;
    int violations = 0;

    void observe(sim::sim_network& net, const std::vector<std::string>& names) {
        for (const auto& name : names) {
            const auto& node = net.node(name);
            auto now = std::make_pair(node.route_epoch(), routes_of(node));
            if (auto it = last.find(name);
                it != last.end() && it->second.first == now.first && it->second.second != now.second) {
                ++violations;
                UNSCOPED_INFO(name << " changed a route at round time " << net.now_ms() << " without moving its epoch");
            }
            last[name] = std::move(now);
        }
    }
    void run(sim::sim_network& net, const std::vector<std::string>& names, int rounds) {
        for (int i = 0; i < rounds; ++i) {
            net.run_rounds(1);
            observe(net, names);
        }
    }
};

}  // namespace

TEST_CASE("a route never changes without the route epoch moving: joins, failures, partitions, leaves",
          "[peer_service][routing]") {
    sim::sim_network net(11);
    const std::vector<std::string> names{"c1", "c2", "c3", "s1", "s2", "s3"};
    for (const auto* name : {"s1", "s2", "s3"}) net.add(name, role::server);
    for (const auto* name : {"c1", "c2", "c3"}) net.add(name, role::client);
    epoch_watch watch;
    net.node("s2").join(net.router_of("s1"), net.now_ms());
    net.node("s3").join(net.router_of("s1"), net.now_ms());
    watch.run(net, names, 20);
    net.node("c1").join(net.router_of("s1"), net.now_ms());
    net.node("c2").join(net.router_of("s2"), net.now_ms());
    net.node("c3").join(net.router_of("s3"), net.now_ms());
    watch.run(net, names, 60);
    REQUIRE(net.converged(names));
    CHECK(net.node("c1").route_status_of("c3") == core::route_status::ok);

    net.partition({"s1", "c1"}, {"s2", "s3", "c2", "c3"});
    watch.run(net, names, 600);  // long enough for both sides to see the others fail
    CHECK(net.node("c1").route_status_of("c3") == core::route_status::unreachable);
    net.heal();
    watch.run(net, names, 600);
    CHECK(net.node("c1").route_status_of("c3") == core::route_status::ok);

    net.node("s2").partition_into_groups({{"s2", "c2"}, {"s3", "c3"}});
    watch.run(net, names, 30);
    CHECK(net.node("s2").route_status_of("c3") == core::route_status::partitioned);

    net.crash("s3");  // c3 loses its home and moves
    watch.run(net, names, 800);
    CHECK(net.node("c3").self().home_server != "s3");

    net.node("c2").leave(net.now_ms());
    watch.run(net, names, 100);
    CHECK(net.node("s1").route_status_of("c2") == core::route_status::unknown_node);
    CHECK(watch.violations == 0);
}

TEST_CASE("a quiet cluster's routes stay put: heartbeats, beacons, gossip and ticks do not move the epoch",
          "[peer_service][routing]") {
    sim::sim_network net(12);
    const std::vector<std::string> names{"c1", "c2", "s1", "s2"};
    two_servers_two_clients(net);
    net.run_rounds(300);
    REQUIRE(net.converged(names));
    std::map<std::string, std::uint64_t> before;
    for (const auto& name : names) before[name] = net.node(name).route_epoch();
    net.run_rounds(500);  // five heartbeat and gossip intervals
    for (const auto& name : names) {
        INFO(name);
        CHECK(net.node(name).route_epoch() == before[name]);
        CHECK(net.node(name).counters()["anti_entropy_rounds"] > 0);
    }
    // Every digest found its receiver in step (checked before any walk of the state).
    for (const auto* server : {"s1", "s2"}) {
        INFO(server);
        CHECK(net.node(server).counters()["anti_entropy_in_step"] > 0);
    }
}

namespace {

// s2 of a converged two-server cluster, with a "work" handler, taking acked forwards from s1
// one at a time: what each caused (handed to the handler, answered with which ack).
struct acked_receiver {
    sim::sim_network net{5};
    core::peer_service* s2 = nullptr;
    struct outcome {
        int handled = 0;
        std::optional<core::ack_status> answer;
    };

    acked_receiver() {
        converged_two_servers_two_clients(net);
        s2 = &net.node("s2");
        s2->register_handler("work");
        (void)s2->take_output();
    }
    outcome receive(std::uint64_t id, const std::string& handler = "work") {
        const core::forward msg{"s1", 1,    "s2", handler, core::delivery_kind::forward, "default", 0, 0,
                                id,   true, "",   "p"};
        s2->on_message({core::link::kind::accepted, "s1"}, msg, net.now_ms());
        outcome seen;
        for (auto& effect : s2->take_output()) {
            if (std::holds_alternative<core::effect::deliver>(effect)) ++seen.handled;
            if (const auto* send = std::get_if<core::effect::send>(&effect))
                if (const auto* ack = std::get_if<core::forward_ack>(&send->msg)) seen.answer = ack->status;
        }
        return seen;
    }
};

}  // namespace

TEST_CASE("acked messages: each handled once across a long gap, and an unknown handler answered alike twice",
          "[peer_service][ack]") {
    acked_receiver r;
    auto& s2 = *r.s2;
    auto receive = [&r](std::uint64_t id, const std::string& handler) { return r.receive(id, handler); };
    // Id 1 is lost; 6,000 later ones arrive, more than any fixed window of ids would hold.
    int handled = 0;
    for (std::uint64_t id = 2; id <= 6001; ++id) handled += receive(id, "work").handled;
    CHECK(handled == 6000);
    const auto retransmitted = receive(1, "work");
    CHECK(retransmitted.handled == 1);  // not taken for a duplicate
    CHECK(retransmitted.answer == core::ack_status::delivered);
    const auto again = receive(1, "work");
    CHECK(again.handled == 0);
    CHECK(again.answer == core::ack_status::delivered);  // its first ack may have been lost
    CHECK(receive(3000, "work").handled == 0);
    CHECK(s2.counters()["duplicates_suppressed"] == 2);

    // An unknown handler's answer, lost and asked again by the retransmission, is the same.
    CHECK(receive(7000, "nobody").answer == core::ack_status::unknown_handler);
    CHECK(receive(7000, "nobody").answer == core::ack_status::unknown_handler);
    // Once the handler exists, the message is handled.
    s2.register_handler("nobody");
    CHECK(receive(7000, "nobody").handled == 1);
}

TEST_CASE("an acked message meeting a full handler queue is left to its retransmission, not acknowledged",
          "[peer_service][ack]") {
    acked_receiver r;
    r.s2->set_deliveries_backlogged(true);
    const auto deferred = r.receive(1);
    CHECK(deferred.handled == 0);  // neither handed over nor acknowledged
    CHECK_FALSE(deferred.answer);
    CHECK(r.s2->counters()["acked_deferred_backlog"] == 1);
    r.s2->set_deliveries_backlogged(false);
    const auto retransmitted = r.receive(1);
    CHECK(retransmitted.handled == 1);
    CHECK(retransmitted.answer == core::ack_status::delivered);
}

TEST_CASE("a sender's restart (a new incarnation) starts a fresh duplicate window and drops the old",
          "[peer_service][ack]") {
    acked_receiver r;
    auto from = [&r](std::uint64_t incarnation, std::uint64_t id) {
        const core::forward msg{"s1", incarnation, "s2", "work", core::delivery_kind::forward, "default", 0, 0,
                                id,   true,        "",   "p"};
        r.s2->on_message({core::link::kind::accepted, "s1"}, msg, r.net.now_ms());
        int handled = 0;
        for (auto& effect : r.s2->take_output()) handled += std::holds_alternative<core::effect::deliver>(effect);
        return handled;
    };
    CHECK(from(1, 1) == 1);
    CHECK(from(1, 1) == 0);  // a duplicate
    CHECK(from(2, 1) == 1);  // the restarted sender numbers from 1 again
    CHECK(from(2, 1) == 0);
    CHECK(from(3, 1) == 1);
    CHECK(r.s2->counters()["duplicates_suppressed"] == 2);
    CHECK(r.s2->counters()["duplicate_windows"] == 1);  // incarnations 1 and 2 forgotten
}

TEST_CASE("a sender that is no longer a member has its duplicate window pruned, after a long linger",
          "[peer_service][ack]") {
    acked_receiver r;
    const core::forward from_ghost{"ghost", 1,    "s2", "work", core::delivery_kind::forward, "default", 0, 0,
                                   1,       true, "",   "p"};
    const auto now = r.net.now_ms();
    r.s2->on_message({core::link::kind::accepted, "ghost"}, from_ghost, now);
    (void)r.receive(1);  // s1, a member
    CHECK(r.s2->counters()["duplicate_windows"] == 2);
    r.s2->tick(now + 60'000);  // within the linger: a late retransmission is still recognised
    CHECK(r.s2->counters()["duplicate_windows"] == 2);
    r.s2->tick(now + 601'000);
    CHECK(r.s2->counters()["duplicate_windows"] == 1);  // s1's stays: it is a member
}

TEST_CASE("an ack counts only from the message's destination, ids differ per incarnation, and a stop fails the rest",
          "[peer_service][ack]") {
    sim::sim_network net(13);
    converged_two_servers_two_clients(net);
    auto& s1 = net.node("s1");
    (void)s1.take_output();
    // The id on the wire, which the ack names (the report carries the handle send_app gave).
    std::uint64_t wire_id = 0;
    auto send_acked = [&] {
        std::uint64_t id = 0;
        REQUIRE(s1.send_app(core::outgoing{"s2", "work", core::delivery_kind::forward, "default", 0, true, "", "p"},
                            net.now_ms(), &id) == core::route_status::ok);
        for (const auto& data : forwards_sent(s1)) wire_id = data.id;
        return id;
    };
    auto reports = [&] {
        std::vector<core::effect::delivery_report> seen;
        for (auto& effect : s1.take_output())
            if (auto* report = std::get_if<core::effect::delivery_report>(&effect)) seen.push_back(*report);
        return seen;
    };
    const auto first = send_acked();
    // Counting from a point drawn from the seed, not from 1: a restarted node (another seed)
    // does not reuse its previous life's ids, whose acks may still be on their way.
    CHECK(wire_id > 1'000'000);

    // An ack for that id from a node the message was not for: not its ack.
    s1.on_message({core::link::kind::accepted, "c1"},
                  core::forward_ack{"c1", "s1", wire_id, core::ack_status::delivered, 0}, net.now_ms());
    CHECK(reports().empty());
    CHECK(s1.counters()["acks_unmatched"] == 1);
    s1.on_message({core::link::kind::accepted, "s2"},
                  core::forward_ack{"s2", "s1", wire_id, core::ack_status::delivered, 0}, net.now_ms());
    auto acked = reports();
    REQUIRE(acked.size() == 1);
    CHECK(acked[0].delivered);
    CHECK(acked[0].id == first);

    // Leaving fails what still waits for its ack, at once, with the reason.
    const auto second = send_acked();
    s1.leave(net.now_ms());
    const auto failed = reports();
    REQUIRE(failed.size() == 1);
    CHECK(failed[0].id == second);
    CHECK_FALSE(failed[0].delivered);
    CHECK(failed[0].reason == "stopped");
    CHECK(s1.unacked_count() == 0);
}

TEST_CASE("acked ids run one after another per destination, and a copy from before its sender restarted is dropped",
          "[peer_service][ack]") {
    sim::sim_network net(17);
    converged_two_servers_two_clients(net);
    auto& s1 = net.node("s1");
    (void)s1.take_output();
    // Alternating destinations leaves no gap in either's ids: a receiver's duplicate window
    // then holds a gap only for a message lost on the way (numbered across destinations, it
    // held one per message sent elsewhere, and past 65,536 gave up on the oldest: a resent
    // copy of a lost one was then taken for a duplicate and never handled).
    std::map<std::string, std::vector<std::uint64_t>> ids_to;
    for (int i = 0; i < 6; ++i) {
        const std::string destination = i % 2 == 0 ? "s2" : "c1";
        REQUIRE(
            s1.send_app(core::outgoing{destination, "work", core::delivery_kind::forward, "default", 0, true, "", "p"},
                        net.now_ms()) == core::route_status::ok);
        for (const auto& data : forwards_sent(s1)) ids_to[data.destination].push_back(data.id);
    }
    for (const auto& [destination, ids] : ids_to) {
        INFO(destination);
        REQUIRE(ids.size() == 3);
        CHECK(ids[1] == ids[0] + 1);
        CHECK(ids[2] == ids[1] + 1);
    }

    // At s2: a message from one incarnation of s1, then one from its next; a late copy of the
    // first (held up in a relay's queue) is neither handled again nor answered.
    auto& s2 = net.node("s2");
    s2.register_handler("work");
    (void)s2.take_output();
    const auto incarnation = s1.self().incarnation;
    auto from_s1 = [&](std::uint64_t origin_incarnation, std::uint64_t id) {
        s2.on_message({core::link::kind::accepted, "s1"},
                      core::forward{"s1", origin_incarnation, "s2", "work", core::delivery_kind::forward, "default", 0,
                                    0, id, true, "", "p", 0},
                      net.now_ms());
        std::size_t delivered = 0, answered = 0;
        for (auto& effect : s2.take_output()) {
            delivered += std::holds_alternative<core::effect::deliver>(effect);
            if (auto* send = std::get_if<core::effect::send>(&effect))
                answered += std::holds_alternative<core::forward_ack>(send->msg);
        }
        return std::make_pair(delivered, answered);
    };
    CHECK(from_s1(incarnation, 10) == std::make_pair(std::size_t{1}, std::size_t{1}));
    CHECK(from_s1(incarnation + 1, 3) == std::make_pair(std::size_t{1}, std::size_t{1}));
    CHECK(from_s1(incarnation, 10) == std::make_pair(std::size_t{0}, std::size_t{0}));
    CHECK(s2.counters()["dropped_from_older_incarnation"] == 1);
    // The newer incarnation's duplicates are still answered, not handled.
    CHECK(from_s1(incarnation + 1, 3) == std::make_pair(std::size_t{0}, std::size_t{1}));
}

TEST_CASE("duplicate windows of senders that are not members are bounded", "[peer_service][ack]") {
    sim::sim_network net(19);
    converged_two_servers_two_clients(net);
    auto& s2 = net.node("s2");
    s2.register_handler("work");
    // A peer inventing origins for acked messages: each would keep a window for 10 minutes.
    for (int i = 0; i < 5000; ++i)
        s2.on_message({core::link::kind::accepted, "s1"},
                      core::forward{"ghost-" + std::to_string(i), 1, "s2", "work", core::delivery_kind::forward,
                                    "default", 0, 0, 1, true, "", "p", 0},
                      net.now_ms());
    (void)s2.take_output();
    CHECK(s2.counters()["duplicate_windows"] <= 4096 + 4);
    CHECK(s2.counters()["duplicate_windows_evicted"] >= 5000 - 4096);
}

TEST_CASE("a joiner counts the wait for its first welcome, and a failure is counted where it is seen",
          "[peer_service]") {
    sim::sim_network net(11);
    net.add("s1", role::server);
    net.add("c1", role::client);
    net.add("c2", role::client);
    net.run_rounds(5);  // c1 starts 50 ms before it dials
    net.node("c1").join(net.router_of("s1"), net.now_ms());
    net.node("c2").join(net.router_of("s1"), net.now_ms());
    net.run_rounds(100);
    REQUIRE(net.converged({"c1", "c2", "s1"}));
    const auto waited = net.node("c1").counters();
    REQUIRE(waited.contains("first_welcome_ms"));
    CHECK(waited.at("first_welcome_ms") >= 50);
    CHECK(waited.at("first_welcome_ms") < 1000);
    CHECK_FALSE(net.node("s1").counters().contains("first_welcome_ms"));  // no server welcomed it
    CHECK_FALSE(net.node("s1").counters().contains("peers_failed"));
    CHECK_FALSE(net.node("c2").counters().contains("members_seen_down"));

    net.crash("c1");
    net.run_rounds(600);
    CHECK(net.node("s1").counters()["peers_failed"] == 1);
    CHECK(net.node("s1").counters()["members_seen_down"] == 1);
    CHECK(net.node("c2").counters()["members_seen_down"] == 1);  // told by its server
    CHECK_FALSE(net.node("c2").counters().contains("peers_failed"));
}

TEST_CASE("a client joining through two servers keeps the first to welcome it, and neither fails it",
          "[peer_service]") {
    sim::sim_network net(5);
    net.add("s1", role::server);
    net.add("s2", role::server);
    net.node("s2").join(net.router_of("s1"), 0);
    net.run_rounds(50);
    const std::vector<std::string> clients{"c1", "c2", "c3"};
    for (const auto& c : clients) net.add(c, role::client);
    net.pause("s2");                 // busy with a join storm: its welcomes come late
    for (const auto& c : clients) {  // as a client given --join s1,s2 does
        net.node(c).join(net.router_of("s1"), net.now_ms());
        net.node(c).join(net.router_of("s2"), net.now_ms());
    }
    net.run_rounds(150);  // s1 holds them and watches them
    net.resume("s2");
    // Well within the detection time plus the slowest handshake retry, after which a server
    // lets go of a client that attached elsewhere anyway.
    net.run_rounds(300);
    const std::vector<std::string> all{"c1", "c2", "c3", "s1", "s2"};
    REQUIRE(net.converged(all));
    for (const auto& c : clients) {
        INFO(c);
        CHECK(net.node(c).self().home_server == "s1");
        CHECK(net.node(c).outcome_of_join(net.router_of("s2"))->status == core::join_status::joined);
    }
    for (const auto& observer : all)
        for (const auto& member : all) {
            INFO(observer << " sees " << member);
            CHECK(net.node(observer).reachable(member));
        }
    for (const auto& observer : all) {
        INFO(observer);
        CHECK_FALSE(net.node(observer).counters().contains("peers_failed"));
        CHECK_FALSE(net.node(observer).counters().contains("members_seen_down"));
    }
}
