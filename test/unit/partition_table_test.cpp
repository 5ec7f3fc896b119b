// The partitions a node holds (core/partition_table.hpp): origin and group cuts, heals passed
// on once and remembered, and requests waiting for their origin's confirmation.
#include <catch2/catch.hpp>

#include "core/partition_table.hpp"

using namespace zpartisan;

TEST_CASE("an origin's cut keeps us from the peers it names until healed", "[partition_table]") {
    core::partition_table table("s1");
    const auto ref = table.next_ref(7);
    CHECK(ref == "s1/7#1");
    CHECK(table.next_ref(7) == "s1/7#2");
    CHECK(table.empty());
    table.cut(ref, {"s2", "c1"});
    CHECK(table.has_origin_cuts());
    CHECK(table.holds_cut(ref));
    CHECK(table.cuts_off("s2"));
    CHECK_FALSE(table.cuts_off("s3"));
    const auto heal = table.resolve(ref);
    CHECK(heal.first_time);
    CHECK(heal.held);
    CHECK(heal.cut_peers == std::set<std::string>{"c1", "s2"});
    CHECK(table.empty());
    CHECK_FALSE(table.cuts_off("s2"));
    CHECK(table.healed(ref));
}

TEST_CASE("a group cut separates listed nodes of different groups only", "[partition_table]") {
    core::partition_table table("s1");
    table.cut_into_groups("g#1", {{"s1", "s2"}, {"s3", "c3"}});
    CHECK_FALSE(table.has_origin_cuts());  // publishing goes on: the group cut filters per peer
    CHECK(table.holds_groups("g#1"));
    CHECK(table.cuts_off("s3"));
    CHECK(table.cuts_off("c3"));
    CHECK_FALSE(table.cuts_off("s2"));
    CHECK_FALSE(table.cuts_off("s4"));  // listed in no group
    const auto entries = table.entries({"s1", "s2", "s3", "c3", "s4"});
    REQUIRE(entries.size() == 2);
    CHECK(entries[0].peer == "s3");
    CHECK(entries[1].peer == "c3");
}

TEST_CASE("a heal passes each node once, and the last few are kept for new connections", "[partition_table]") {
    core::partition_table table("s1");
    CHECK(table.resolve("x#1").first_time);
    CHECK_FALSE(table.resolve("x#1").held);  // healed before it was ever cut here
    CHECK_FALSE(table.resolve("x#1").first_time);
    for (std::size_t i = 2; i <= core::partition_table::recent_heals_max + 1; ++i)
        (void)table.resolve("x#" + std::to_string(i));
    CHECK(table.recent_heals().size() == core::partition_table::recent_heals_max);
    CHECK(table.recent_heals().front() == "x#2");
    CHECK(table.healed("x#1"));  // still remembered, though no longer passed to new connections
}

TEST_CASE("a request is sent again every interval until confirmed or given up", "[partition_table]") {
    core::partition_table table("c1");
    CHECK_FALSE(table.next_request_ms());
    table.add_request("c1/1#1", "s2", 1, 5000, 1000);
    table.add_request("c1/1#2", "s3", 0, 3000, 1000);
    CHECK(table.next_request_ms() == 1000u);
    CHECK(table.take_due_requests(999, 1000).empty());
    auto due = table.take_due_requests(1000, 1000);
    REQUIRE(due.size() == 2);
    CHECK_FALSE(due[0].give_up);
    CHECK(due[0].origin == "s2");
    CHECK(due[0].ttl == 1);
    CHECK(table.next_request_ms() == 2000u);
    CHECK(table.confirm("c1/1#1"));
    CHECK_FALSE(table.confirm("c1/1#1"));  // answered already
    due = table.take_due_requests(3000, 1000);
    REQUIRE(due.size() == 1);
    CHECK(due[0].give_up);
    CHECK(due[0].ref == "c1/1#2");
    CHECK_FALSE(table.has_requests());
}

TEST_CASE("requests made here are bounded", "[partition_table]") {
    core::partition_table table("c1");
    for (std::size_t i = 0; i < core::partition_table::requests_max; ++i)
        table.add_request(table.next_ref(1), "s2", 0, 5000, 1000);
    CHECK(table.requests_full());
}
