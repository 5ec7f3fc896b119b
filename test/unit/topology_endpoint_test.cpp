// Who may join whom, whom a node dials, and which endpoint strings are usable.
#include <catch2/catch.hpp>

#include "core/endpoint.hpp"
#include "core/topology.hpp"

using namespace zpartisan;
using namespace zpartisan::core;

TEST_CASE("the join tag matrix (partisan accept_join_with_tag, docs/protocol.md §2)", "[topology]") {
    CHECK(decide_join(role::server, role::server) == join_decision::accept);
    CHECK(decide_join(role::server, role::client) == join_decision::accept);
    CHECK(decide_join(role::client, role::client) == join_decision::refer);
    CHECK(decide_join(role::client, role::server) == join_decision::refer);
    CHECK(decide_join(role::server, std::nullopt) == join_decision::refuse);
    CHECK(decide_join(role::client, std::nullopt) == join_decision::refuse);
    for (int raw : {0, 3, 255}) CHECK_FALSE(valid_role(static_cast<role>(raw)));
    CHECK(valid_role(role::server) == role::server);
}

TEST_CASE("servers dial every other server, clients only their home", "[topology]") {
    const std::vector<node_spec> members{{"s1", role::server, "tcp://s1:1", "tcp://s1:2", "", 1, "", ""},
                                         {"s2", role::server, "tcp://s2:1", "tcp://s2:2", "", 1, "", ""},
                                         {"s3", role::server, "tcp://s3:1", "tcp://s3:2", "", 1, "", ""},
                                         {"c1", role::client, "tcp://c1:1", "", "s2", 1, "", ""}};
    CHECK(desired_dials(members[0], members) == std::vector<std::string>{"tcp://s2:1", "tcp://s3:1"});
    CHECK(desired_dials(members[3], members) == std::vector<std::string>{"tcp://s2:1"});
    node_spec homeless{"c9", role::client, "tcp://c9:1", "", "", 1, "", ""};
    CHECK(desired_dials(homeless, members).empty());
}

TEST_CASE("endpoints are parsed and bad ones explained", "[endpoint]") {
    for (const char* good : {"tcp://127.0.0.1:5555", "tcp://127.0.0.1:*", "tcp://*:7000", "tcp://s1.cluster.local:7000",
                             "ipc:///tmp/zp.sock", "inproc://a"}) {
        CAPTURE(good);
        CHECK(parse_endpoint(good));
    }
    CHECK(parse_endpoint("tcp://*:7000")->has_wildcard_host());
    CHECK(parse_endpoint("tcp://h:*")->has_wildcard_port());
    for (const char* bad : {"", "127.0.0.1:5", "udp://x:1", "tcp://host", "tcp://host:0", "tcp://host:70000",
                            "tcp://host:abc", "tcp://ho st:1", "ipc://"}) {
        CAPTURE(bad);
        std::string why;
        CHECK_FALSE(parse_endpoint(bad, &why));
        CHECK_FALSE(why.empty());
    }
}

TEST_CASE("a join target names its node's CurveZMQ key after '#', found by its length", "[endpoint][curve]") {
    const std::string key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";  // Z85 uses '#', ':' and '@' too
    REQUIRE(is_z85_key(key));
    auto split = split_keyed_endpoint("tcp://10.0.0.1:9000#" + key);
    CHECK(split.endpoint == "tcp://10.0.0.1:9000");
    CHECK(split.server_key == key);
    const std::string with_hash = "a#b1234567890123456789012345678901234567";
    REQUIRE(is_z85_key(with_hash));
    split = split_keyed_endpoint("tcp://h:1#" + with_hash);
    CHECK(split.endpoint == "tcp://h:1");
    CHECK(split.server_key == with_hash);
    for (const auto& plain : std::vector<std::string>{"tcp://h:1", "tcp://h:1#short", "tcp://h:1#" + key + "x",
                                                      "tcp://h:1#" + key.substr(0, 39) + "~"}) {
        CAPTURE(plain);
        split = split_keyed_endpoint(plain);
        CHECK(split.endpoint == plain);
        CHECK(split.server_key.empty());
    }
}
