// The order of acked messages through the core (docs/protocol.md §7, Order): what the sender
// puts in each message, and how the receiver hands them over.
#include <catch2/catch.hpp>

#include "sim/sim_network.hpp"
#include "unit/two_servers.hpp"

using namespace zpartisan;
using namespace zpartisan::test;

namespace {

core::outgoing acked_to(const std::string& destination, const std::string& channel, std::uint32_t lane,
                        const std::string& payload = "p") {
    return core::outgoing{destination, "work", core::delivery_kind::forward, channel, lane, true, "", payload};
}

// s2 of a converged two-server cluster with a "work" handler, taking acked forwards from s1
// that carry order, and what each caused: the payloads handed over, and the ids answered.
struct ordered_receiver {
    sim::sim_network net{23};
    core::peer_service* s2 = nullptr;
    struct outcome {
        std::vector<std::string> handled;
        std::vector<std::uint64_t> answered;
    };

    ordered_receiver() {
        converged_two_servers_two_clients(net);
        s2 = &net.node("s2");
        s2->register_handler("work");
        (void)s2->take_output();
    }
    outcome collect() {
        outcome seen;
        for (auto& effect : s2->take_output()) {
            if (auto* deliver = std::get_if<core::effect::deliver>(&effect))
                seen.handled.push_back(deliver->msg.payload);
            if (const auto* send = std::get_if<core::effect::send>(&effect))
                if (const auto* ack = std::get_if<core::forward_ack>(&send->msg)) seen.answered.push_back(ack->id);
        }
        return seen;
    }
    outcome receive(std::uint64_t id, std::uint64_t previous_id, std::uint64_t settled_below) {
        core::forward msg{"s1",
                          1,
                          "s2",
                          "work",
                          core::delivery_kind::forward,
                          "default",
                          0,
                          0,
                          id,
                          true,
                          "",
                          "m" + std::to_string(id),
                          0,
                          previous_id,
                          settled_below};
        s2->on_message({core::link::kind::accepted, "s1"}, msg, net.now_ms());
        return collect();
    }
};

using payloads = std::vector<std::string>;
using ids = std::vector<std::uint64_t>;

}  // namespace

TEST_CASE("a sender chains its acked messages per destination, channel and lane, and says what it settled",
          "[peer_service][ack][order]") {
    sim::sim_network net(29);
    converged_two_servers_two_clients(net);
    auto& s1 = net.node("s1");
    (void)s1.take_output();
    auto send = [&](const core::outgoing& out) {
        REQUIRE(s1.send_app(out, net.now_ms()) == core::route_status::ok);
        const auto sent = forwards_sent(s1);
        REQUIRE(sent.size() == 1);
        return sent.front();
    };
    const auto first = send(acked_to("s2", "default", 0));
    CHECK(first.previous_id == 0);
    CHECK(first.settled_below == first.id);  // waiting for its own ack
    const auto second = send(acked_to("s2", "default", 0));
    CHECK(second.previous_id == first.id);
    CHECK(second.settled_below == first.id);
    // Another lane, another channel, another destination: chains of their own.
    CHECK(send(acked_to("s2", "default", 1)).previous_id == 0);
    CHECK(send(acked_to("s2", "bulk", 0)).previous_id == 0);
    const auto to_c1 = send(acked_to("c1", "default", 0));
    CHECK(to_c1.previous_id == 0);
    CHECK(to_c1.settled_below == to_c1.id);
    CHECK(send(acked_to("s2", "default", 0)).previous_id == second.id);

    // The first is acked: the next copies of the others say it is settled. (One given up on
    // at its deadline leaves the same way: both forget it.)
    s1.on_message({core::link::kind::accepted, "s2"},
                  core::forward_ack{"s2", "s1", first.id, core::ack_status::delivered, 0}, net.now_ms());
    (void)s1.take_output();
    s1.tick(net.now_ms() + 1000);  // a heartbeat interval: everything unacked goes again
    for (const auto& copy : forwards_sent(s1)) {
        INFO(copy.destination << " " << copy.id);
        CHECK(copy.settled_below == (copy.destination == "s2" ? second.id : to_c1.id));
    }
}

TEST_CASE("a receiver holds an acked message that overtook its predecessor, unanswered, until the gap fills",
          "[peer_service][ack][order]") {
    ordered_receiver r;
    // 1 is lost on the way; 2 and 3 come first.
    auto early = r.receive(2, 1, 1);
    CHECK(early.handled.empty());
    CHECK(early.answered.empty());  // its sender retransmits it meanwhile
    CHECK(r.receive(3, 2, 1).handled.empty());
    CHECK(r.receive(2, 1, 1).handled.empty());  // a retransmitted copy
    CHECK(r.s2->counters()["held_back_copies"] == 1);
    CHECK(r.s2->counters()["held_back_now"] == 2);
    const auto filled = r.receive(1, 0, 1);
    CHECK(filled.handled == payloads{"m1", "m2", "m3"});
    CHECK(filled.answered == ids{1, 2, 3});
    CHECK(r.s2->counters()["held_back_now"] == 0);
    // A copy of one handed over is a duplicate, answered again.
    const auto again = r.receive(2, 1, 1);
    CHECK(again.handled.empty());
    CHECK(again.answered == ids{2});
}

TEST_CASE("a receiver learns from a retransmitted copy that the sender gave up on the gap, and goes on",
          "[peer_service][ack][order]") {
    ordered_receiver r;
    CHECK(r.receive(2, 1, 1).handled.empty());
    // The sender's ack timeout passed for 1: the next copy of 2 says everything below 2 is settled.
    const auto released = r.receive(2, 1, 2);
    CHECK(released.handled == payloads{"m2"});
    CHECK(released.answered == ids{2});
    // 1 after all (a copy held up on the way): its lane went on without it; never handed over.
    const auto late = r.receive(1, 0, 1);
    CHECK(late.handled.empty());
    CHECK(late.answered.empty());
    CHECK(r.s2->counters()["dropped_behind_order"] == 1);
}

TEST_CASE("a receiver holds a message at most the ack timeout, then skips its gap", "[peer_service][ack][order]") {
    ordered_receiver r;
    CHECK(r.receive(2, 1, 1).handled.empty());
    r.s2->tick(r.net.now_ms() + 4990);
    CHECK(r.collect().handled.empty());
    r.s2->tick(r.net.now_ms() + 5000);
    CHECK(r.collect().handled == payloads{"m2"});
    CHECK(r.s2->counters()["held_back_gaps_skipped"] == 1);
}

TEST_CASE("a full handler queue keeps held messages held, in order, for the next turn", "[peer_service][ack][order]") {
    ordered_receiver r;
    CHECK(r.receive(2, 1, 1).handled.empty());
    r.s2->set_deliveries_backlogged(true);
    CHECK(r.receive(1, 0, 1).handled.empty());  // not taken: left to its retransmission
    r.s2->set_deliveries_backlogged(false);
    CHECK(r.receive(1, 0, 1).handled == payloads{"m1", "m2"});
}

TEST_CASE("an acked message lost with a cut link reaches its receiver ahead of those sent after it",
          "[peer_service][ack][order]") {
    sim::sim_network net(31, {0, 0, 0, 0, true});
    net.register_handler_everywhere("work");
    converged_two_servers_two_clients(net);
    // c1 -> s1 -> s2 -> c2. The first message is lost on a cut link; the second leaves once
    // the link is back, before the first's retransmission.
    net.cut_one_way("c1", "s1");
    std::uint64_t first = 0;
    REQUIRE(net.node("c1").send_app(acked_to("c2", "default", 0, "first"), net.now_ms(), &first) ==
            core::route_status::ok);
    net.run_rounds(2);
    net.restore_one_way("c1", "s1");
    REQUIRE(net.node("c1").send_app(acked_to("c2", "default", 0, "second"), net.now_ms()) == core::route_status::ok);
    net.run_rounds(250);
    std::vector<std::string> handled;
    for (const auto& d : net.deliveries())
        if (d.at == "c2") handled.push_back(d.msg.payload);
    CHECK(handled == std::vector<std::string>{"first", "second"});
    CHECK(net.node("c2").counters()["held_back"] == 1);
    std::size_t delivered = 0;
    for (const auto& report : net.reports()) delivered += report.at == "c1" && report.what.delivered;
    CHECK(delivered == 2);
}

TEST_CASE("plain frames are numbered, and one that a later one of its lane overtook is dropped, not handed over",
          "[peer_service][order]") {
    sim::sim_network net(37);
    converged_two_servers_two_clients(net);
    auto& s1 = net.node("s1");
    (void)s1.take_output();
    std::vector<std::uint64_t> numbers;
    for (const auto* destination : {"s2", "c1", "s2"}) {
        REQUIRE(s1.send_app({destination, "work", core::delivery_kind::forward, "default", 0, false, "", "p"},
                            net.now_ms()) == core::route_status::ok);
        for (const auto& sent : forwards_sent(s1)) numbers.push_back(sent.id);
    }
    CHECK(numbers == std::vector<std::uint64_t>{1, 2, 3});  // one count over every destination

    auto& s2 = net.node("s2");
    s2.register_handler("work");
    const core::link from_s1{core::link::kind::accepted, "s1"};
    auto arrives = [&](std::uint64_t sequence, std::uint32_t lane = 0, std::uint32_t entries = 0) {
        return s2.admit_local_delivery(from_s1,
                                       {.origin = "s1",
                                        .origin_incarnation = 1,
                                        .handler = "work",
                                        .channel = "default",
                                        .lane = lane,
                                        .sequence = sequence,
                                        .entries = entries},
                                       net.now_ms());
    };
    CHECK(arrives(5));
    CHECK(arrives(9));
    CHECK_FALSE(arrives(7, 0, 3));  // a bundle of three that took a slower route
    CHECK(s2.counters()["dropped_plain_overtaken"] == 3);
    CHECK_FALSE(arrives(9));
    CHECK(arrives(7, 1));  // another lane keeps its own order
    CHECK(arrives(0));     // not numbered: not ordered
    CHECK(arrives(0));
    // The decoded path agrees.
    const core::forward overtaken{"s1", 1,     "s2", "work", core::delivery_kind::forward, "default", 0, 0,
                                  8,    false, "",   "x"};
    (void)s2.take_output();
    s2.on_message(from_s1, overtaken, net.now_ms());
    for (const auto& effect : s2.take_output()) CHECK_FALSE(std::holds_alternative<core::effect::deliver>(effect));
    CHECK(s2.counters()["dropped_plain_overtaken"] == 5);
}
