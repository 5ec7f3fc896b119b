// The nemesis's order checker (sim/order_checker.hpp) on hand-made histories.
#include <catch2/catch.hpp>

#include "sim/order_checker.hpp"

using namespace zpartisan;

namespace {

sim::delivered handled(const std::string& payload, std::uint64_t sender_life = 1, std::uint64_t receiver_life = 1,
                       const std::string& channel = "default", std::uint32_t lane = 0, bool ack = true) {
    sim::delivered d;
    d.at = "s2";
    d.at_incarnation = receiver_life;
    d.msg.origin = "s1";
    d.msg.origin_incarnation = sender_life;
    d.msg.destination = "s2";
    d.msg.channel = channel;
    d.msg.lane = lane;
    d.msg.ack = ack;
    d.msg.payload = payload;
    return d;
}

}  // namespace

TEST_CASE("the order checker: a flow may lose messages, never reorder or repeat them", "[nemesis][order]") {
    sim::order_checker order;
    for (const auto* payload : {"a", "b", "c", "d"}) order.sent(payload, true);
    CHECK(order.violations({handled("a"), handled("c"), handled("d")}).empty());  // b lost
    const auto overtaken = order.violations({handled("a"), handled("c"), handled("b")});
    REQUIRE(overtaken.size() == 1);
    CHECK(overtaken[0].find("b (s1 -> s2") != std::string::npos);
    CHECK(overtaken[0].find("after c, sent later") != std::string::npos);
    CHECK(order.violations({handled("a"), handled("a")}).size() == 1);
}

TEST_CASE("the order checker: flows are per life of each end, channel, lane and kind", "[nemesis][order]") {
    sim::order_checker order;
    for (const auto* payload : {"a", "b"}) order.sent(payload, true);
    order.sent("p", false);
    // A restart of either end starts a new flow; so do another channel, lane or kind.
    CHECK(order.violations({handled("b"), handled("a", 2)}).empty());
    CHECK(order.violations({handled("b"), handled("a", 1, 2)}).empty());
    CHECK(order.violations({handled("b"), handled("a", 1, 1, "bulk")}).empty());
    CHECK(order.violations({handled("b"), handled("a", 1, 1, "default", 1)}).empty());
    CHECK(order.violations({handled("p", 1, 1, "default", 0, false), handled("a")}).empty());
    // Past the number shown, the rest are counted.
    sim::order_checker many;
    std::vector<sim::delivered> backwards;
    for (int i = 0; i < 10; ++i) many.sent(std::to_string(i), true);
    for (int i = 9; i >= 0; --i) backwards.push_back(handled(std::to_string(i)));
    const auto found = many.violations(backwards, 3);
    REQUIRE(found.size() == 4);
    CHECK(found.back() == "order: 6 more handled out of send order");
}
