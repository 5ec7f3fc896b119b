// The frame limit is advertised in the handshake (protocol 6): a sender refuses too_large
// before sending over a next hop that takes less, and a relay drops and counts what its own
// next hop could not take, rather than that hop receiving and dropping it.
#include <catch2/catch.hpp>

#include <atomic>

#include "cluster_fixture.hpp"

using namespace zpartisan;
using namespace zpartisan::test;

TEST_CASE("a send over the next hop's advertised frame limit is refused too_large at the sender",
          "[limits][messaging]") {
    auto s1 = make_node("s1", role::server);
    auto small_cfg = test_config("c1", role::client);
    small_cfg.max_message_bytes = 8192;
    auto c1 = std::make_unique<Node>(small_cfg);
    auto c2 = make_node("c2", role::client);
    std::atomic<int> handled{0};
    c1->register_handler("work", [&](const inbound_message&) { ++handled; });
    REQUIRE(c1->sync_join(s1->router_endpoint(), std::chrono::seconds(10)).ok());
    REQUIRE(c2->sync_join(s1->router_endpoint(), std::chrono::seconds(10)).ok());
    WAIT_FOR("routes to c1 settled", s1->send_message("c1", "x") == send_status::ok &&
                                         c2->forward_message("c1", "work", "small") == send_status::ok);
    WAIT_FOR("small messages arrive", handled.load() >= 1);

    const std::string big(10'000, 'x');  // over c1's 8192, far under everyone else's 4 MiB
    CHECK(s1->forward_message("c1", "work", big) == send_status::too_large);  // s1 heard c1's limit in its hello
    CHECK(c1->forward_message("s1", "work", big) == send_status::too_large);  // c1's own limit
    // c2's next hop is s1, which takes it; s1 does not send it on to c1 and counts it.
    CHECK(c2->forward_message("c1", "work", big) == send_status::ok);
    WAIT_FOR("s1 drops it for its next hop", s1->status().counters["dropped_too_large_for_next_hop"] >= 1);
    CHECK(c1->status().counters["dropped_decode_frame over the size limit"] == 0);
    CHECK(s1->status().counters["peers_with_lower_frame_limit"] >= 1);
    const int before = handled.load();
    CHECK(c2->forward_message("c1", "work", std::string(4000, 'y')) == send_status::ok);
    WAIT_FOR("what fits still arrives", handled.load() > before);
}
