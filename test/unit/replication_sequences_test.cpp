// Replication's numbers (core/replication_sequences.hpp): our streams, gaps in a publisher's,
// and whole or fingerprint-only digests in anti-entropy rounds.
#include <catch2/catch.hpp>

#include "core/replication_sequences.hpp"

using namespace zpartisan;
using core::effect::stream;

TEST_CASE("each stream numbers its deltas on its own", "[replication_sequences]") {
    core::replication_sequences r(1000);
    CHECK(r.published(stream::mesh) == 0);
    CHECK(r.next_published(stream::mesh) == 1);
    CHECK(r.next_published(stream::mesh) == 2);
    CHECK(r.next_published(stream::clients) == 1);
    CHECK(r.published(stream::mesh) == 2);
    CHECK(r.published(stream::clients) == 1);
}

TEST_CASE("a delta out of turn or a beacon that does not repeat the last number is a gap", "[replication_sequences]") {
    core::replication_sequences r(1000);
    CHECK(r.observe("s1", 4, true));  // never heard from it: ask for everything
    CHECK_FALSE(r.observe("s1", 5, true));
    CHECK_FALSE(r.observe("s1", 5, false));  // a beacon repeats the last
    CHECK(r.observe("s1", 7, true));         // 6 was lost
    CHECK(r.observe("s1", 8, false));        // a beacon ahead: the delta 8 was lost
    CHECK_FALSE(r.observe("s1", 9, true));   // followed from the beacon's number
    CHECK(r.observe("s1", 1, true));         // a restart: a gap, then followed
    CHECK_FALSE(r.observe("s1", 2, true));
    r.follow("s2", 10);  // a welcome's number
    CHECK_FALSE(r.observe("s2", 11, true));
}

TEST_CASE("gossip rounds come every interval, whole digests only while the state moves", "[replication_sequences]") {
    core::replication_sequences r(1000);
    r.start_gossip(500);
    CHECK(r.next_gossip_ms() == 1500u);
    CHECK_FALSE(r.take_gossip_round(1499));
    CHECK(r.take_gossip_round(1500));
    CHECK(r.next_gossip_ms() == 2500u);
    CHECK_FALSE(r.take_gossip_round(1500));
    CHECK(r.moved_since_gossip(42));
    r.gossiped(42);
    CHECK_FALSE(r.moved_since_gossip(42));
    CHECK(r.moved_since_gossip(43));
}
