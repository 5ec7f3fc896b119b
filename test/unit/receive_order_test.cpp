// The receiver's order of acked messages (core/receive_order.hpp): held back until their
// predecessor on the lane went or is settled, bounded, and never handed over late.
#include <catch2/catch.hpp>

#include "core/receive_order.hpp"

using namespace zpartisan;
using admission = core::receive_order::admission;

namespace {

// An acked message from s1 (incarnation 1) to s2 on channel "default" unless told.
core::forward acked(std::uint64_t id, std::uint64_t previous_id, std::uint64_t settled_below, std::uint32_t lane = 0,
                    std::uint64_t incarnation = 1) {
    core::forward m;
    m.origin = "s1";
    m.origin_incarnation = incarnation;
    m.destination = "s2";
    m.handler = "work";
    m.channel = "default";
    m.lane = lane;
    m.id = id;
    m.ack = true;
    m.payload = "p" + std::to_string(id);
    m.previous_id = previous_id;
    m.settled_below = settled_below;
    return m;
}

core::receive_order::position at(const core::forward& m) {
    return {m.origin, m.origin_incarnation, m.channel, m.lane, m.id};
}

// Offers m; when its turn is now, hands it over at once (passes it), as the core does.
admission offer(core::receive_order& order, core::forward m, std::uint64_t now_ms = 0) {
    const auto result = order.admit(m, now_ms);
    if (result == admission::now) order.passed(at(m));
    return result;
}

std::vector<std::uint64_t> ids_of(const std::vector<core::forward>& messages) {
    std::vector<std::uint64_t> found;
    for (const auto& m : messages) found.push_back(m.id);
    return found;
}

std::vector<std::uint64_t> take_ready(core::receive_order& order) {
    std::vector<core::forward> out;
    order.take_ready(out);
    return ids_of(out);
}

std::map<std::string, std::uint64_t> counters_of(const core::receive_order& order) {
    std::map<std::string, std::uint64_t> all;
    order.add_counters(all);
    return all;
}

}  // namespace

TEST_CASE("acked messages in order go at once, and one ahead of its predecessor waits for it", "[receive_order]") {
    core::receive_order order({});
    CHECK(offer(order, acked(10, 0, 10)) == admission::now);
    CHECK(offer(order, acked(11, 10, 10)) == admission::now);
    // 12 is lost on the way; 13 and 14 arrive first.
    CHECK(offer(order, acked(13, 12, 12)) == admission::held);
    CHECK(offer(order, acked(14, 13, 12)) == admission::held);
    CHECK(order.held() == 2);
    CHECK(take_ready(order).empty());
    CHECK(offer(order, acked(13, 12, 12)) == admission::held_already);  // a retransmitted copy
    // The retransmission of 12 fills the gap: it goes, then what waited behind it, in order.
    CHECK(offer(order, acked(12, 11, 12)) == admission::now);
    CHECK(take_ready(order) == std::vector<std::uint64_t>{13, 14});
    CHECK(order.held() == 0);
    CHECK(counters_of(order)["held_back"] == 2);
    // Copies of what went are late (a duplicate filter answers those before they come here).
    CHECK(offer(order, acked(13, 12, 12)) == admission::late);
}

TEST_CASE("a gap its origin settled does not hold anything back, and what then comes is late", "[receive_order]") {
    core::receive_order order({});
    CHECK(offer(order, acked(21, 20, 20)) == admission::held);
    CHECK(offer(order, acked(22, 21, 20)) == admission::held);
    // The origin gave up on 20 (its ack timeout): the next copy of 21 says everything below 21
    // is settled.
    CHECK(offer(order, acked(21, 20, 21)) == admission::held_already);
    CHECK(take_ready(order) == std::vector<std::uint64_t>{21, 22});
    CHECK(offer(order, acked(20, 0, 20)) == admission::late);
    // A predecessor settled before its successor arrived (acked by an earlier life of ours):
    // nothing to wait for.
    CHECK(offer(order, acked(30, 25, 26)) == admission::now);
}

TEST_CASE("lanes and channels keep their own order: a gap holds back only its own lane", "[receive_order]") {
    core::receive_order order({});
    CHECK(offer(order, acked(2, 1, 1, 0)) == admission::held);
    CHECK(offer(order, acked(3, 0, 1, 1)) == admission::now);
    auto other_channel = acked(4, 0, 1, 0);
    other_channel.channel = "bulk";
    CHECK(offer(order, other_channel) == admission::now);
    CHECK(order.held() == 1);
}

TEST_CASE("a message held for the longest hold goes, its gap skipped, and the gap's message is then late",
          "[receive_order]") {
    core::receive_order order({.max_hold_ms = 5000});
    CHECK(offer(order, acked(2, 1, 1), 1000) == admission::held);
    CHECK(offer(order, acked(3, 2, 1), 2000) == admission::held);
    std::vector<core::forward> out;
    order.take_overdue(5999, out);
    CHECK(out.empty());
    order.take_overdue(6000, out);
    CHECK(ids_of(out) == std::vector<std::uint64_t>{2, 3});  // 3 waited behind 2 only
    CHECK(counters_of(order)["held_back_gaps_skipped"] == 1);
    CHECK(offer(order, acked(1, 0, 1), 6000) == admission::late);
}

TEST_CASE("a new incarnation of an origin drops what its older one held, and a copy from the older is refused",
          "[receive_order]") {
    core::receive_order order({});
    CHECK(offer(order, acked(2, 1, 1, 0, 1)) == admission::held);
    CHECK(offer(order, acked(7, 0, 7, 0, 2)) == admission::now);
    CHECK(order.held() == 0);
    CHECK(counters_of(order)["held_back_dropped"] == 1);
    CHECK(offer(order, acked(1, 0, 1, 0, 1)) == admission::older_origin);
}

TEST_CASE("what is held is bounded: messages, bytes, lanes and origins", "[receive_order]") {
    core::receive_order order({.messages_max = 2, .bytes_max = 1000, .lanes_per_origin_max = 3, .origins_max = 2});
    CHECK(offer(order, acked(2, 1, 1)) == admission::held);
    CHECK(offer(order, acked(3, 2, 1)) == admission::held);
    CHECK(offer(order, acked(4, 3, 1)) == admission::no_room);  // left to its retransmission
    CHECK(order.held() == 2);
    // Lanes of one origin: three tracked, a fourth refused.
    CHECK(offer(order, acked(5, 0, 1, 1)) == admission::now);
    CHECK(offer(order, acked(6, 0, 1, 2)) == admission::now);
    CHECK(offer(order, acked(8, 0, 1, 3)) == admission::no_room);
    // Origins: the one heard from longest ago makes room for a new one, its held ones dropped.
    auto other = acked(1, 0, 1);
    other.origin = "c1";
    CHECK(offer(order, other, 10) == admission::now);
    other.origin = "c2";
    CHECK(offer(order, other, 20) == admission::now);
    CHECK(order.held() == 0);
    CHECK(counters_of(order)["held_back_origins_evicted"] == 1);
    CHECK(counters_of(order)["held_back_dropped"] == 2);

    core::receive_order small({.bytes_max = 4});
    CHECK(offer(small, acked(2, 1, 1)) == admission::held);       // "p2": 2 bytes
    CHECK(offer(small, acked(13, 12, 1)) == admission::no_room);  // "p13": 3 more
}

TEST_CASE("origins that are no longer members are forgotten after the linger", "[receive_order]") {
    core::receive_order order({});
    CHECK(offer(order, acked(2, 1, 1), 1000) == admission::held);
    auto member = acked(1, 0, 1);
    member.origin = "s3";
    CHECK(offer(order, member, 1000) == admission::now);
    const auto is_member = [](const std::string& name) { return name == "s3"; };
    order.forget_strangers(5000, 10'000, is_member);
    CHECK(order.held() == 1);
    order.forget_strangers(11'000, 10'000, is_member);
    CHECK(order.held() == 0);
    CHECK_FALSE(order.empty());  // s3's flow stays
}

TEST_CASE("plain frames: one overtaken on its lane is refused, with lanes, lives and unnumbered frames apart",
          "[receive_order]") {
    core::receive_order order({.lanes_per_origin_max = 2});
    CHECK(order.admit_plain("s1", 1, "default", 0, 4, 0));
    CHECK(order.admit_plain("s1", 1, "default", 0, 6, 0));
    CHECK_FALSE(order.admit_plain("s1", 1, "default", 0, 5, 0));
    CHECK_FALSE(order.admit_plain("s1", 1, "default", 0, 6, 0));
    CHECK(order.admit_plain("s1", 1, "default", 1, 5, 0));  // another lane
    CHECK(order.admit_plain("s1", 1, "default", 0, 0, 0));  // not numbered
    // Past the lanes bound a frame goes as it comes: nothing would ever resend it.
    CHECK(order.admit_plain("s1", 1, "bulk", 0, 1, 0));
    CHECK(order.admit_plain("s1", 1, "bulk", 0, 1, 0));
    // A restarted origin counts afresh; its earlier life is not ordered against it.
    CHECK(order.admit_plain("s1", 2, "default", 0, 1, 0));
    CHECK(order.admit_plain("s1", 1, "default", 0, 2, 0));
}
