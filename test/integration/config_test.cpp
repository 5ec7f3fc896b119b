// Bad configuration is rejected at construction with a message naming the field.
#include <atomic>

#include "cluster_fixture.hpp"

using namespace zpartisan;

namespace {
std::string rejection(config cfg) {
    try {
        cfg.validate();
    } catch (const config_error& e) {
        return e.what();
    }
    return "";
}
}  // namespace

TEST_CASE("config validation names the offending field", "[config]") {
    auto good = test::test_config("n1", role::server);
    CHECK(rejection(good).empty());

    auto cfg = good;
    cfg.name = "";
    CHECK_THAT(rejection(cfg), Catch::Contains("name"));
    cfg = good;
    cfg.name = "has space";
    CHECK_THAT(rejection(cfg), Catch::Contains("name"));
    cfg = good;
    cfg.role = static_cast<role>(7);
    CHECK_THAT(rejection(cfg), Catch::Contains("role"));
    cfg = good;
    cfg.router_bind_endpoint = "127.0.0.1:5000";
    CHECK_THAT(rejection(cfg), Catch::Contains("router_bind_endpoint"));
    cfg = good;
    cfg.router_bind_endpoint = "tcp://*:7000";
    CHECK_THAT(rejection(cfg), Catch::Contains("advertised_router_endpoint"));
    cfg.advertised_router_endpoint = "tcp://s1:7000";
    CHECK(rejection(cfg).empty());
    cfg.advertised_router_endpoint = "tcp://s1:*";
    CHECK_THAT(rejection(cfg), Catch::Contains("wildcard"));
    cfg = good;
    cfg.heartbeat_interval_ms = 0;
    CHECK_THAT(rejection(cfg), Catch::Contains("heartbeat_interval_ms"));
    cfg = good;
    cfg.missed_heartbeats = 0;
    CHECK_THAT(rejection(cfg), Catch::Contains("missed_heartbeats"));
    cfg = good;
    cfg.gossip_interval_ms = 0;
    CHECK_THAT(rejection(cfg), Catch::Contains("gossip_interval_ms"));
    cfg = good;
    cfg.cluster_name = "";
    CHECK_THAT(rejection(cfg), Catch::Contains("cluster_name"));
    cfg = good;
    cfg.max_message_bytes = 10;
    CHECK_THAT(rejection(cfg), Catch::Contains("max_message_bytes"));
    cfg = good;
    cfg.listen_backlog = 0;
    CHECK_THAT(rejection(cfg), Catch::Contains("listen_backlog"));
    cfg.listen_backlog = 4096;
    CHECK(rejection(cfg).empty());
    // "name|channel|lane" is a ZeroMQ routing id: at most 255 bytes.
    cfg = good;
    cfg.name = std::string(244, 'n');
    CHECK(rejection(cfg).empty());
    cfg.name = std::string(245, 'n');
    CHECK_THAT(rejection(cfg), Catch::Contains("channels"));
    cfg = good;
    cfg.channels["a-channel-name-of-some-length"] = 2;
    cfg.name = std::string(230, 'n');
    CHECK_THAT(rejection(cfg), Catch::Contains("a-channel-name-of-some-length"));
}

TEST_CASE("config values at their limits make nodes that work", "[config]") {
    using namespace std::chrono_literals;
    auto s1 = test::make_node("s1", role::server);
    // Its lanes' routing ids are 255 bytes long.
    auto long_cfg = test::test_config(std::string(244, 'n'), role::server);
    Node long_named(long_cfg);
    REQUIRE(long_named.sync_join(s1->router_endpoint(), 10s).ok());
    std::atomic<int> got{0};
    s1->register_handler("work", [&got](const inbound_message&) { ++got; });
    WAIT_FOR("a forward on a lane arrives",
             (long_named.forward_message("s1", "work", "x") == send_status::ok && got.load() > 0));
    // Heartbeats this patient exceed what ZeroMQ's own heartbeat TTL can say; it is capped.
    auto patient = test::test_config("patient", role::server);
    patient.heartbeat_interval_ms = 1000;
    patient.missed_heartbeats = 7000;
    REQUIRE(rejection(patient).empty());
    Node patient_node(patient);
    CHECK(patient_node.status().running);
}

TEST_CASE("a Node refuses bad config and an endpoint already in use", "[config]") {
    auto cfg = test::test_config("", role::server);
    CHECK_THROWS_AS(Node(cfg), config_error);

    Node first(test::test_config("a", role::server));
    auto clash = test::test_config("b", role::server);
    clash.router_bind_endpoint = first.router_endpoint();
    CHECK_THROWS_AS(Node(clash), error);
}
