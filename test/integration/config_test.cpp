// Bad configuration is rejected at construction with a message naming the field.
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
}

TEST_CASE("a Node refuses bad config and an endpoint already in use", "[config]") {
    auto cfg = test::test_config("", role::server);
    CHECK_THROWS_AS(Node(cfg), config_error);

    Node first(test::test_config("a", role::server));
    auto clash = test::test_config("b", role::server);
    clash.router_bind_endpoint = first.router_endpoint();
    CHECK_THROWS_AS(Node(clash), error);
}
