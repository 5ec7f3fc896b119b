// Partition injection, capacity and capabilities over real sockets (docs/protocol.md §6 and §3).
#include <algorithm>
#include <atomic>
#include <future>

#include "cluster_fixture.hpp"

using namespace zpartisan;
using namespace zpartisan::test;
using namespace std::chrono_literals;

namespace {

bool reachable(const Node& observer, const std::string& name) {
    for (const auto& entry : observer.liveness())
        if (entry.node == name) return entry.reachable;
    return false;
}

}  // namespace

TEST_CASE("a node partitioned from its peers is seen failed both ways, and heals", "[partition]") {
    std::atomic<int> s1_saw_s3_down{0}, s1_saw_s3_up{0}, s3_saw_s1_down{0}, s3_saw_s1_up{0};
    small_cluster c;
    c.s1->on_down("s3", [&] { ++s1_saw_s3_down; });
    c.s1->on_up("s3", [&] { ++s1_saw_s3_up; });
    c.s3->on_down("s1", [&] { ++s3_saw_s1_down; });
    c.s3->on_up("s1", [&] { ++s3_saw_s1_up; });
    const auto cut = c.s3->inject_partition("s3");
    REQUIRE(cut.ok());
    const auto entries = c.s3->partitions();
    CHECK(entries.size() == 2);         // its peers: s1 and s2 (s3 has no clients)
    CHECK(c.s1->partitions().empty());  // ttl 0: only the origin cuts
    WAIT_FOR("s1 and s2 see s3 failed", !reachable(*c.s1, "s3") && !reachable(*c.s2, "s3"));
    WAIT_FOR("s3 sees s1 and s2 failed", !reachable(*c.s3, "s1") && !reachable(*c.s3, "s2"));
    WAIT_FOR("on_down fired on both sides", s1_saw_s3_down.load() == 1 && s3_saw_s1_down.load() == 1);
    WAIT_FOR("clients hear it from their servers", !reachable(*c.c1, "s3") && !reachable(*c.c2, "s3"));
    CHECK(c.s3->status().counters["dropped_partitioned_in"] > 0);

    REQUIRE(c.s1->resolve_partition(cut.ref).ok());  // healed from another node: it floods
    WAIT_FOR("the heal reaches s3", c.s3->partitions().empty());
    WAIT_FOR("everyone sees everyone again",
             reachable(*c.s1, "s3") && reachable(*c.s3, "s1") && reachable(*c.c2, "s3") && reachable(*c.c1, "s3"));
    WAIT_FOR("on_up fired on both sides", s1_saw_s3_up.load() == 1 && s3_saw_s1_up.load() == 1);
    CHECK(s1_saw_s3_down.load() == 1);  // once per transition
}

TEST_CASE("a partition requested from a client reaches its origin through the relay and spreads by ttl",
          "[partition]") {
    small_cluster c;
    const auto cut = c.c1->inject_partition("s2", 1);
    REQUIRE(cut.ok());
    CHECK_FALSE(c.s2->partitions().empty());  // ok means the origin holds it already
    WAIT_FOR("ttl 1: s2's peers cut themselves off too",
             !c.s1->partitions().empty() && !c.s3->partitions().empty() && !c.c2->partitions().empty());
    CHECK(c.c1->inject_partition("nobody").status == op_status::unknown_node);
    REQUIRE(c.c1->resolve_partition(cut.ref).ok());
    WAIT_FOR("healed everywhere", c.s1->partitions().empty() && c.s2->partitions().empty() &&
                                      c.s3->partitions().empty() && c.c2->partitions().empty());
    WAIT_FOR("all reachable again", reachable(*c.s1, "s2") && reachable(*c.c1, "c2") && reachable(*c.c2, "s1"));
}

TEST_CASE("named groups cut the cluster in two until healed", "[partition]") {
    small_cluster c;
    const auto cut = c.c2->partition_groups({{"s1", "c1"}, {"s2", "s3", "c2"}});
    REQUIRE(cut.ok());
    WAIT_FOR("s1 sees the other side down", !reachable(*c.s1, "s2") && !reachable(*c.s1, "s3"));
    WAIT_FOR("the other side sees s1 down", !reachable(*c.s2, "s1") && !reachable(*c.s3, "s1"));
    WAIT_FOR("c1 sees c2 down (its server is on the other side)", !reachable(*c.c1, "c2"));
    CHECK(reachable(*c.s2, "s3"));  // same group: untouched
    REQUIRE(c.s1->resolve_partition(cut.ref).ok());
    WAIT_FOR("healed: everyone reachable",
             reachable(*c.s1, "s2") && reachable(*c.s2, "s1") && reachable(*c.c1, "c2") && reachable(*c.c2, "c1"));
}

TEST_CASE("reserve holds a slot: a full server refers new clients to one with room", "[reserve]") {
    auto cfg = test_config("s1", role::server);
    cfg.max_clients = 1;
    Node s1(cfg);
    auto s2 = make_node("s2", role::server);
    REQUIRE(s2->sync_join(s1.router_endpoint(), 10s).ok());

    REQUIRE(s1.reserve("gold").ok());
    const auto again = s1.reserve("silver");
    CHECK(again.status == op_status::refused);
    CHECK(again.reason == "no_available_slots");
    CHECK(s2->reserve("any").ok());  // unlimited

    auto plain = make_node("plain", role::client);
    const auto joined = plain->sync_join(s1.router_endpoint(), 10s);
    INFO(joined.reason);
    REQUIRE(joined.ok());
    CHECK(plain->status().self.home_server == "s2");  // referred: s1's only slot is held

    auto gold_cfg = test_config("vip", role::client);
    gold_cfg.tag = "gold";
    Node vip(gold_cfg);
    REQUIRE(vip.sync_join(s1.router_endpoint(), 10s).ok());
    CHECK(vip.status().self.home_server == "s1");  // its reserved slot

    auto client = make_node("cx", role::client);
    CHECK(client->reserve("x").status == op_status::refused);
}

TEST_CASE("supports_capability is true exactly for what is built", "[capability]") {
    for (const char* built :
         {"monitoring", "partition_injection", "persistence", "reservations", "rehoming", "failure_detection",
          "membership_crdt", "anti_entropy", "relay", "ack", "channels", "call", "typed_payloads", "curve"}) {
        CAPTURE(built);
        CHECK(Node::supports_capability(built));
    }
    for (const char* missing : {"teleportation", ""}) {
        CAPTURE(missing);
        CHECK_FALSE(Node::supports_capability(missing));
    }
}

TEST_CASE("a partition asked of a client of another server takes effect at that client", "[partition][faults]") {
    // c1's home is s1 and c2's is s2: the request must cross both servers, and the call
    // answers ok only once c2 holds the cut (docs/protocol.md §6).
    small_cluster c;
    const auto cut = c.c1->inject_partition("c2", 0);
    REQUIRE(cut.ok());
    const auto held = c.c2->partitions();
    CHECK(std::any_of(held.begin(), held.end(), [&](const partition_entry& p) { return p.ref == cut.ref; }));
    REQUIRE(c.c1->resolve_partition(cut.ref).ok());
    WAIT_FOR("healed", c.c2->partitions().empty());
}

TEST_CASE("inject_partition with a callback answers on the callback thread once the origin holds the cut",
          "[partition][faults]") {
    small_cluster c;
    std::promise<partition_result> answered;
    auto done = answered.get_future();
    c.c1->inject_partition("c2", 0, [&](const partition_result& result) { answered.set_value(result); });
    REQUIRE(done.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    const auto result = done.get();
    REQUIRE(result.ok());
    const auto held = c.c2->partitions();
    CHECK(std::any_of(held.begin(), held.end(), [&](const partition_entry& p) { return p.ref == result.ref; }));
    std::promise<partition_result> unknown;
    c.c1->inject_partition("nobody", 0, [&](const partition_result& r) { unknown.set_value(r); });
    CHECK(unknown.get_future().get().status == op_status::unknown_node);
    REQUIRE(c.c1->resolve_partition(result.ref).ok());
    WAIT_FOR("healed", c.c2->partitions().empty());
}

TEST_CASE("a member named by update_members that never joined is not yet connected, never reachable",
          "[partition][faults]") {
    small_cluster c;
    auto stranger = make_node("c9", role::client);  // running, never told to join
    auto specs = c.s1->members_for_orchestration();
    for (const auto& spec : stranger->members_for_orchestration())
        if (spec.name == "c9") specs.push_back(spec);
    REQUIRE(c.s1->update_members(specs).ok());
    const std::vector<Node*> nodes{c.s1.get(), c.s2.get(), c.s3.get(), c.c1.get(), c.c2.get()};
    WAIT_FOR("everyone lists c9", std::all_of(nodes.begin(), nodes.end(), [](const Node* n) {
                 const auto m = n->members();
                 return std::find(m.begin(), m.end(), "c9") != m.end();
             }));
    for (auto* n : nodes) {
        INFO(n->name());
        CHECK_FALSE(reachable(*n, "c9"));
        CHECK(n->forward_message("c9", "inbox", "hello") == send_status::not_yet_connected);
    }
}
