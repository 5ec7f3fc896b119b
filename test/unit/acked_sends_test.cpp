// The sender's side of acked messages (core/acked_sends.hpp): ids per destination, order
// fields per lane, retransmission and expiry, and messages that wait for a route.
#include <catch2/catch.hpp>

#include "core/acked_sends.hpp"

using namespace zpartisan;

namespace {

constexpr std::uint64_t first_id = 1000;

core::acked_sends make(std::size_t max = 100) {
    return core::acked_sends({.ack_timeout_ms = 5000, .retransmit_interval_ms = 1000, .messages_max = max}, first_id);
}

core::forward to(const std::string& destination, std::uint32_t lane = 0) {
    core::forward m;
    m.origin = "c1";
    m.destination = destination;
    m.channel = "default";
    m.lane = lane;
    m.ack = true;
    return m;
}

// A send callback that takes every copy and records its (destination, id, settled_below).
struct recorder {
    std::vector<std::tuple<std::string, std::uint64_t, std::uint64_t>> sent;
    bool routed = true;
    bool operator()(const core::forward& m) {
        if (routed) sent.emplace_back(m.destination, m.id, m.settled_below);
        return routed;
    }
};

auto never_expires = [](core::acked_sends::given_up&&) { FAIL("nothing should expire"); };

}  // namespace

TEST_CASE("acked ids run one after another per destination, above the first id", "[acked_sends]") {
    auto sends = make();
    auto a1 = to("s1"), a2 = to("s1"), b1 = to("s2");
    sends.add(a1, 0, true);
    sends.add(b1, 0, true);
    sends.add(a2, 0, true);
    CHECK(a1.id == first_id + 1);
    CHECK(a2.id == first_id + 2);
    // A new destination starts above every id handed out so far.
    CHECK(b1.id == first_id + 2);
    CHECK(sends.size() == 3);
}

TEST_CASE("each acked message names its lane's previous one and what is settled", "[acked_sends]") {
    auto sends = make();
    auto m1 = to("s1", 0), m2 = to("s1", 1), m3 = to("s1", 0);
    sends.add(m1, 0, true);
    sends.add(m2, 0, true);
    sends.add(m3, 0, true);
    CHECK(m1.previous_id == 0);
    CHECK(m2.previous_id == 0);  // another lane
    CHECK(m3.previous_id == m1.id);
    // Nothing acked yet: the oldest waiting one bounds what is settled.
    CHECK(m3.settled_below == m1.id);
    REQUIRE(sends.acknowledge("s1", m1.id));
    CHECK(sends.settled_below_for("s1") == m2.id);
    REQUIRE(sends.acknowledge("s1", m2.id));
    REQUIRE(sends.acknowledge("s1", m3.id));
    CHECK(sends.settled_below_for("s1") == m3.id + 1);  // everything handed out is settled
    CHECK(sends.settled_below_for("nobody") == 1);
}

TEST_CASE("an ack matches its message once, and only from its destination", "[acked_sends]") {
    auto sends = make();
    auto m = to("s1");
    const auto report = sends.add(m, 0, true);
    CHECK_FALSE(sends.acknowledge("s2", m.id));
    CHECK_FALSE(sends.acknowledge("s1", m.id + 1));
    const auto answered = sends.acknowledge("s1", m.id);
    REQUIRE(answered);
    CHECK(answered->report_id == report);
    CHECK(answered->destination == "s1");
    CHECK_FALSE(sends.acknowledge("s1", m.id));  // a duplicate ack
    CHECK(sends.empty());
}

TEST_CASE("a message is copied every interval until its deadline, then given up", "[acked_sends]") {
    auto sends = make();
    auto m = to("s1");
    const auto report = sends.add(m, 0, true);
    REQUIRE(sends.due_ms() == 1000u);
    recorder send;
    CHECK(sends.retransmit_and_expire(999, send, never_expires) == 0);
    CHECK(sends.retransmit_and_expire(1000, send, never_expires) == 1);
    CHECK(sends.due_ms() == 2000u);
    CHECK(send.sent.size() == 1);
    for (std::uint64_t t = 2000; t < 5000; t += 1000) sends.retransmit_and_expire(t, send, never_expires);
    CHECK(sends.due_ms() == 5000u);  // the deadline, not another copy
    std::vector<core::acked_sends::given_up> expired;
    sends.retransmit_and_expire(5000, send, [&](core::acked_sends::given_up&& g) { expired.push_back(std::move(g)); });
    REQUIRE(expired.size() == 1);
    CHECK(expired[0].report_id == report);
    CHECK(sends.empty());
    CHECK_FALSE(sends.due_ms());
    // Given up: the next message settles everything below it.
    auto next = to("s1");
    sends.add(next, 6000, true);
    CHECK(next.settled_below == next.id);
}

TEST_CASE("a message without a route waits for the route epoch to move", "[acked_sends]") {
    auto sends = make();
    auto m = to("s1");
    sends.add(m, 0, false);
    CHECK(sends.awaits_route_at(1));
    recorder send;
    send.routed = false;
    CHECK(sends.send_when_routed(1, 10, send) == 0);
    CHECK_FALSE(sends.awaits_route_at(1));  // tried at this epoch: nothing to do until it moves
    CHECK(sends.awaits_route_at(2));
    send.routed = true;
    CHECK(sends.send_when_routed(2, 20, send) == 1);
    CHECK_FALSE(sends.awaits_route_at(3));  // it left
    // Its copy was sent at 20: the next is due an interval later.
    CHECK(sends.retransmit_and_expire(1000, send, never_expires) == 0);
    CHECK(sends.retransmit_and_expire(1020, send, never_expires) == 1);
}

TEST_CASE("the buffer is bounded and every message fails when the node stops", "[acked_sends]") {
    auto sends = make(2);
    auto a = to("s1"), b = to("s2");
    sends.add(a, 0, true);
    CHECK_FALSE(sends.full());
    sends.add(b, 0, false);
    CHECK(sends.full());
    const auto all = sends.take_all();
    CHECK(all.size() == 2);
    CHECK(sends.empty());
    CHECK_FALSE(sends.awaits_route_at(7));
}

TEST_CASE("sequences of departed destinations are forgotten once nothing waits for them", "[acked_sends]") {
    auto sends = make();
    auto m = to("gone");
    sends.add(m, 0, true);
    const auto nobody = [](const std::string&) { return false; };
    sends.prune_sequences(nobody);
    CHECK(sends.has_sequences());  // its message still waits for an ack
    REQUIRE(sends.acknowledge("gone", m.id));
    sends.prune_sequences(nobody);
    CHECK_FALSE(sends.has_sequences());
    // Its next life starts above every id handed out, and a new lane chain.
    auto again = to("gone");
    sends.add(again, 0, true);
    CHECK(again.id > m.id);
    CHECK(again.previous_id == 0);
}
