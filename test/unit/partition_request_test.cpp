// Partition requests made at one node for another (docs/protocol.md §6): answered once the
// origin holds the cut, sent again while a relay has no way on, and given up (and healed
// wherever they reached) when the origin never confirms them by the ack timeout.
#include <algorithm>
#include <catch2/catch.hpp>

#include "sim/sim_network.hpp"

using namespace zpartisan;

namespace {

constexpr std::uint64_t ack_timeout_ms = 2000;

// s1, s2, s3 in a mesh; c1 at home on s1, c3 on s3: c1 reaches c3 through s1 and s3.
sim::sim_network three_homes() {
    sim::sim_network net(11, {0, 0, 0, 0, true}, {100, 3, 100, 50, ack_timeout_ms});
    net.add("s1", role::server);
    for (const auto* s : {"s2", "s3"}) net.add(s, role::server).join(net.router_of("s1"), net.now_ms());
    net.add("c1", role::client).join(net.router_of("s1"), net.now_ms());
    net.add("c3", role::client).join(net.router_of("s3"), net.now_ms());
    REQUIRE(net.run_until_converged({"c1", "c3", "s1", "s2", "s3"}, 2000) >= 0);
    net.run_rounds(50);  // homes announced, every route in place
    return net;
}

std::vector<sim::partition_answer> answers_to(const sim::sim_network& net, const std::string& ref) {
    std::vector<sim::partition_answer> out;
    for (const auto& a : net.partition_answers())
        if (a.what.ref == ref) out.push_back(a);
    return out;
}

bool holds(const core::peer_service& node, const std::string& ref) {
    const auto cuts = node.partitions();
    return std::any_of(cuts.begin(), cuts.end(), [&](const core::partition_entry& p) { return p.ref == ref; });
}

int rounds_of(std::uint64_t ms) { return static_cast<int>(ms / sim::sim_network::round_ms); }

}  // namespace

TEST_CASE("a partition asked of another server's client is answered applied once that client holds it",
          "[partition][sim]") {
    auto net = three_homes();
    const auto ref = net.node("c1").inject_partition("c3", 0, net.now_ms());
    REQUIRE(ref);
    CHECK(answers_to(net, *ref).empty());  // not before the origin confirms it
    net.run_rounds(20);
    const auto answers = answers_to(net, *ref);
    REQUIRE(answers.size() == 1);
    CHECK(answers.front().at == "c1");
    CHECK(answers.front().what.applied);
    CHECK(holds(net.node("c3"), *ref));
    net.run_rounds(rounds_of(2 * ack_timeout_ms));
    CHECK(answers_to(net, *ref).size() == 1);  // one answer, however many copies went
    CHECK(holds(net.node("c3"), *ref));
}

TEST_CASE("a partition of this node itself is answered at once", "[partition][sim]") {
    auto net = three_homes();
    const auto ref = net.node("c1").inject_partition("c1", 0, net.now_ms());
    REQUIRE(ref);
    net.run_rounds(1);  // the effect leaves with the node's next output
    const auto answers = answers_to(net, *ref);
    REQUIRE(answers.size() == 1);
    CHECK(answers.front().what.applied);
}

TEST_CASE("a partition request a relay had no way on for is sent again and takes effect", "[partition][sim]") {
    auto net = three_homes();
    // s1 cannot pass it to s3 for a while: the first copy is lost there.
    net.cut_one_way("s1", "s3");
    const auto ref = net.node("c1").inject_partition("c3", 0, net.now_ms());
    REQUIRE(ref);
    net.run_rounds(rounds_of(ack_timeout_ms / 4));
    CHECK(answers_to(net, *ref).empty());
    CHECK_FALSE(holds(net.node("c3"), *ref));
    net.restore_one_way("s1", "s3");
    net.run_rounds(rounds_of(ack_timeout_ms / 2));
    const auto answers = answers_to(net, *ref);
    REQUIRE(answers.size() == 1);
    CHECK(answers.front().what.applied);
    CHECK(holds(net.node("c3"), *ref));
}

TEST_CASE("a partition whose answer never comes back is given up by the ack timeout and healed at its origin",
          "[partition][sim]") {
    auto net = three_homes();
    // c3 hears the request but its answer cannot leave (s3 drops what c3 sends).
    net.cut_one_way("c3", "s3");
    const auto ref = net.node("c1").inject_partition("c3", 0, net.now_ms());
    REQUIRE(ref);
    net.run_rounds(20);
    CHECK(holds(net.node("c3"), *ref));
    CHECK(answers_to(net, *ref).empty());
    net.run_rounds(rounds_of(ack_timeout_ms));
    const auto answers = answers_to(net, *ref);
    REQUIRE(answers.size() == 1);
    CHECK_FALSE(answers.front().what.applied);
    CHECK_THAT(answers.front().what.reason, Catch::Contains("no confirmation from c3"));
    net.run_rounds(20);
    CHECK_FALSE(holds(net.node("c3"), *ref));  // the heal reached it: nobody holds a cut its caller was told failed
    CHECK(net.node("c1").counters()["partition_requests_timed_out"] == 1);
}

TEST_CASE("a partition asked of a hung node is given up and the late request does not cut it off", "[partition][sim]") {
    auto net = three_homes();
    net.pause("c3");
    const auto ref = net.node("c1").inject_partition("c3", 0, net.now_ms());
    REQUIRE(ref);
    net.run_rounds(rounds_of(ack_timeout_ms) + 20);
    const auto answers = answers_to(net, *ref);
    REQUIRE(answers.size() == 1);
    CHECK_FALSE(answers.front().what.applied);
    net.resume("c3");  // it reads the request and the heal that followed it, in some order
    net.run_rounds(rounds_of(ack_timeout_ms));
    CHECK_FALSE(holds(net.node("c3"), *ref));
    CHECK(net.node("c3").partitions().empty());
}
