// Foundation: the topology forms and membership converges over real sockets.
#include <zmq.hpp>

#include "cluster_fixture.hpp"
#include "core/messages.hpp"
#include "wire/codec.hpp"

using namespace zpartisan;
using namespace zpartisan::test;
using namespace std::chrono_literals;

namespace {

struct three_by_three {
    std::vector<std::unique_ptr<Node>> servers;
    std::vector<std::unique_ptr<Node>> clients;
    std::vector<std::string> all_names{"c1", "c2", "c3", "s1", "s2", "s3"};

    three_by_three() {
        for (int i = 1; i <= 3; ++i) servers.push_back(make_node("s" + std::to_string(i), role::server));
        for (int i = 1; i <= 3; ++i) clients.push_back(make_node("c" + std::to_string(i), role::client));
        REQUIRE(servers[1]->sync_join(servers[0]->router_endpoint(), 10s).ok());
        REQUIRE(servers[2]->sync_join(servers[0]->router_endpoint(), 10s).ok());
        for (int i = 0; i < 3; ++i) {
            const auto result = clients[i]->sync_join(servers[i]->router_endpoint(), 10s);
            INFO(result.reason);
            REQUIRE(result.ok());
        }
    }

    std::vector<Node*> all() {
        std::vector<Node*> nodes;
        for (auto& n : servers) nodes.push_back(n.get());
        for (auto& n : clients) nodes.push_back(n.get());
        return nodes;
    }

    bool everyone_sees(const std::vector<std::string>& expected) {
        return std::all_of(servers.begin(), servers.end(), [&](auto& n) { return n->members() == expected; }) &&
               std::all_of(clients.begin(), clients.end(), [&](auto& n) { return n->members() == expected; });
    }
};

}  // namespace

TEST_CASE("3 servers and 3 clients form the topology and all see all 6 members", "[join]") {
    three_by_three cluster;
    WAIT_FOR("every node lists all 6 members", cluster.everyone_sees(cluster.all_names));

    for (std::size_t i = 0; i < 3; ++i) {
        auto& server = *cluster.servers[i];
        std::vector<std::string> others;
        for (std::size_t j = 0; j < 3; ++j)
            if (j != i) others.push_back(cluster.servers[j]->name());
        WAIT_FOR(server.name() + " holds DEALERs to exactly the other servers",
                 welcomed_peers(server) == others && server.status().dials.size() == 2);
    }
    for (std::size_t i = 0; i < 3; ++i) {
        auto& client = *cluster.clients[i];
        const auto status = client.status();
        CHECK(status.dials.size() == 1);
        CHECK(status.self.home_server == cluster.servers[i]->name());
        CHECK(welcomed_peers(client) == std::vector<std::string>{cluster.servers[i]->name()});
    }
    // The home server lists its client as attached; every node agrees on each client's home.
    WAIT_FOR("s1 lists c1 attached", cluster.servers[0]->status().attached_clients == std::vector<std::string>{"c1"});
    for (auto* node : cluster.all()) {
        for (const auto& spec : node->members_for_orchestration()) {
            if (spec.role != role::client) continue;
            INFO(node->name() << " sees " << spec.name << " homed at " << spec.home_server);
            WAIT_FOR("client homes agree", [&] {
                for (const auto& s : node->members_for_orchestration())
                    if (s.name == spec.name) return s.home_server == "s" + spec.name.substr(1);
                return false;
            }());
        }
    }
}

TEST_CASE("a server learned from gossip is dialed without anyone joining it", "[join]") {
    auto s1 = make_node("s1", role::server);
    auto s2 = make_node("s2", role::server);
    auto s3 = make_node("s3", role::server);
    REQUIRE(s2->sync_join(s1->router_endpoint(), 10s).ok());
    REQUIRE(s3->sync_join(s2->router_endpoint(), 10s).ok());  // s3 never names s1
    WAIT_FOR("s3 dials s1 by itself", welcomed_peers(*s3) == (std::vector<std::string>{"s1", "s2"}));
    WAIT_FOR("s1 dials s3 by itself", welcomed_peers(*s1) == (std::vector<std::string>{"s2", "s3"}));
}

TEST_CASE("a client joining another client is referred to that client's server", "[join][referral]") {
    auto s1 = make_node("s1", role::server);
    auto s2 = make_node("s2", role::server);
    auto c1 = make_node("c1", role::client);
    auto c2 = make_node("c2", role::client);
    REQUIRE(s2->sync_join(s1->router_endpoint(), 10s).ok());
    REQUIRE(c1->sync_join(s2->router_endpoint(), 10s).ok());

    const auto result = c2->sync_join(c1->router_endpoint(), 10s);
    INFO(result.reason);
    REQUIRE(result.ok());
    CHECK(c2->status().self.home_server == "s2");
    CHECK(c2->status().dials.size() == 1);
    CHECK(c1->status().counters["referrals_sent"] >= 1);
    const std::vector<std::string> all{"c1", "c2", "s1", "s2"};
    WAIT_FOR("all four converge",
             s1->members() == all && s2->members() == all && c1->members() == all && c2->members() == all);
}

TEST_CASE("a node of another cluster is refused and nothing else changes", "[join][refusal]") {
    auto s1 = make_node("s1", role::server, "blue");
    auto intruder = make_node("x1", role::server, "green");
    const auto result = intruder->sync_join(s1->router_endpoint(), 10s);
    CHECK(result.status == op_status::refused);
    CHECK_THAT(result.reason, Catch::Contains("wrong cluster"));
    CHECK(s1->members() == std::vector<std::string>{"s1"});
    CHECK(intruder->members() == std::vector<std::string>{"x1"});
    CHECK(s1->status().counters["refused_hellos"] >= 1);
}

namespace {

// A hand-made peer: a raw DEALER with a routing id, as a foreign or broken node would be.
struct raw_peer {
    zmq::context_t context;
    zmq::socket_t dealer{context, zmq::socket_type::dealer};

    raw_peer(const std::string& routing_id, const std::string& endpoint) {
        dealer.set(zmq::sockopt::routing_id, routing_id);
        dealer.set(zmq::sockopt::rcvtimeo, 5000);
        dealer.set(zmq::sockopt::linger, 0);
        dealer.connect(endpoint);
    }
    void send(const std::string& frame) { (void)dealer.send(zmq::buffer(frame), zmq::send_flags::none); }
    // The refusal the node answers a hello with (REQUIREs that it is one).
    core::refusal refusal_for(const core::hello& hello) {
        send(wire::encode(hello));
        zmq::message_t reply;
        REQUIRE(dealer.recv(reply));
        const auto decoded = wire::decode(reply.to_string_view(), 1 << 20);
        REQUIRE(decoded.message);
        const auto* refusal = std::get_if<core::refusal>(&*decoded.message);
        REQUIRE(refusal);
        return *refusal;
    }
};

core::hello hello_from(const std::string& name, std::uint32_t version, role claimed) {
    core::hello hello;
    hello.protocol_version = version;
    hello.cluster_name = "test";
    hello.spec = node_spec{name, claimed, "tcp://127.0.0.1:1", "", "", 1, "", ""};
    return hello;
}

}  // namespace

TEST_CASE("a hello with an unknown protocol version, or garbage, is refused or dropped", "[join][refusal]") {
    auto s1 = make_node("s1", role::server);
    raw_peer rogue("rogue", s1->router_endpoint());
    // Garbage first: it must be dropped and counted, not crash the node.
    for (std::string garbage : {std::string(), std::string("\x00\x01\x02", 3), std::string("ZP\x01\x63junk"),
                                std::string("ZP\x09\x01"), std::string(100, '\xff')})
        rogue.send(garbage);

    const auto refusal = rogue.refusal_for(hello_from("rogue", 99, role::server));
    CHECK(refusal.reason == core::refusal_reason::unsupported_version);
    CHECK_THAT(refusal.detail, Catch::Contains("99"));
    CHECK(s1->members() == std::vector<std::string>{"s1"});
    const auto counters = s1->status().counters;
    CHECK(counters.at("dropped_decode_frame shorter than the header") >= 1);
    CHECK(counters.at("dropped_decode_unknown message type") >= 1);
}

// The rolling-upgrade rule (docs/protocol.md): a node speaks exactly one protocol version, so
// one still on the previous release is refused by name of both versions, not half-joined.
TEST_CASE("a node of the previous protocol version is refused with a clear reason", "[join][refusal][upgrade]") {
    auto s1 = make_node("s1", role::server);
    raw_peer old_node("old", s1->router_endpoint());
    const auto previous = core::protocol_version - 1;
    const auto refusal = old_node.refusal_for(hello_from("old", previous, role::server));
    CHECK(refusal.reason == core::refusal_reason::unsupported_version);
    CHECK(refusal.detail == "unsupported protocol version " + std::to_string(previous) + "; this node speaks " +
                                std::to_string(core::protocol_version));
    CHECK(s1->members() == std::vector<std::string>{"s1"});
    CHECK(s1->status().counters.at("refused_hellos") >= 1);
}

TEST_CASE("a hello without a valid role is refused", "[join][refusal]") {
    auto s1 = make_node("s1", role::server);
    raw_peer rogue("norole", s1->router_endpoint());
    const auto refusal = rogue.refusal_for(hello_from("norole", core::protocol_version, static_cast<role>(0)));
    CHECK(refusal.reason == core::refusal_reason::bad_role);
    CHECK(s1->members() == std::vector<std::string>{"s1"});
}

TEST_CASE("get_local_state decodes to the members, and garbage decodes to nothing", "[state]") {
    auto s1 = make_node("s1", role::server);
    auto c1 = make_node("c1", role::client);
    REQUIRE(c1->sync_join(s1->router_endpoint(), 10s).ok());
    WAIT_FOR("s1 knows c1's home", [&] {
        for (const auto& spec : s1->members_for_orchestration())
            if (spec.name == "c1") return spec.home_server == "s1";
        return false;
    }());
    const auto specs = Node::decode(s1->get_local_state());
    REQUIRE(specs);
    std::vector<std::string> names;
    for (const auto& spec : *specs) names.push_back(spec.name);
    CHECK(names == s1->members());
    CHECK(*specs == s1->members_for_orchestration());
    CHECK_FALSE(Node::decode("not a state"));
    CHECK_FALSE(Node::decode(""));
}

TEST_CASE("leave and leave(name) spread everywhere and stop the removed node", "[leave]") {
    three_by_three cluster;
    WAIT_FOR("all 6 converge", cluster.everyone_sees(cluster.all_names));

    REQUIRE(cluster.clients[2]->leave().ok());
    CHECK_FALSE(cluster.clients[2]->status().running);
    CHECK(cluster.clients[2]->leave().status == op_status::stopped);
    const std::vector<std::string> without_c3{"c1", "c2", "s1", "s2", "s3"};
    WAIT_FOR("c3's leave reaches everyone", [&] {
        for (int i = 0; i < 3; ++i)
            if (cluster.servers[i]->members() != without_c3) return false;
        return cluster.clients[0]->members() == without_c3 && cluster.clients[1]->members() == without_c3;
    }());

    REQUIRE(cluster.servers[0]->leave("c2").ok());
    WAIT_FOR("c2 learns it was removed and stops", !cluster.clients[1]->status().running);
    CHECK(cluster.servers[0]->leave("nobody").status == op_status::unknown_node);
}

TEST_CASE("a Node that left or was removed cannot join again, while a new Node can", "[join][leave]") {
    // c1 homed at s1 leaves; c2 homed at s2 is removed by s1.
    auto s1 = make_node("s1", role::server);
    auto s2 = make_node("s2", role::server);
    auto c1 = make_node("c1", role::client);
    auto c2 = make_node("c2", role::client);
    const auto s1_endpoint = s1->router_endpoint();
    REQUIRE(s2->sync_join(s1_endpoint, 10s).ok());
    REQUIRE(c1->sync_join(s1_endpoint, 10s).ok());
    REQUIRE(c2->sync_join(s2->router_endpoint(), 10s).ok());
    const std::vector<std::string> all{"c1", "c2", "s1", "s2"}, servers{"s1", "s2"}, c1_and_servers{"c1", "s1", "s2"};
    WAIT_FOR("all 4 converge",
             s1->members() == all && s2->members() == all && c1->members() == all && c2->members() == all);
    CHECK(c1->running());
    CHECK(c1->stopped_reason().empty());

    REQUIRE(c1->leave().ok());
    CHECK_FALSE(c1->running());
    CHECK_THAT(c1->stopped_reason(), Catch::Contains("left the cluster"));
    const std::vector<std::string> without_c1{"c2", "s1", "s2"};
    WAIT_FOR("c1's leave reaches everyone",
             s1->members() == without_c1 && s2->members() == without_c1 && c2->members() == without_c1);
    REQUIRE(s1->leave("c2").ok());
    WAIT_FOR("c2 learns it was removed and stops", !c2->running());
    CHECK_THAT(c2->stopped_reason(), Catch::Contains("removed"));

    // A stopped Node stays stopped: join says so, why, and that a new Node is needed.
    for (Node* gone : {c1.get(), c2.get()}) {
        CAPTURE(gone->name());
        const auto joined = gone->join(s1_endpoint);
        CHECK(joined.status == op_status::stopped);
        CHECK_THAT(joined.reason, Catch::Contains(gone->stopped_reason()) && Catch::Contains("new Node"));
        const auto synced = gone->sync_join(s1_endpoint, 2s);
        CHECK(synced.status == op_status::stopped);
        CHECK_THAT(synced.reason, Catch::Contains("new Node"));
        CHECK_FALSE(gone->status().running);
    }
    WAIT_FOR("the servers list only themselves", s1->members() == servers && s2->members() == servers);

    // Destroyed and built again under the same name, it joins as a fresh incarnation.
    const auto old_incarnation = c1->status().self.incarnation;
    c1.reset();
    c1 = make_node("c1", role::client);
    CHECK(c1->status().self.incarnation != old_incarnation);
    const auto rejoined = c1->sync_join(s1_endpoint, 10s);
    INFO(rejoined.reason);
    REQUIRE(rejoined.ok());
    WAIT_FOR("the servers list the new c1", s1->members() == c1_and_servers && s2->members() == c1_and_servers);
    CHECK(c1->running());
}

TEST_CASE("a stopped Node reports why, and join says it cannot run again", "[join]") {
    auto c1 = make_node("c1", role::client);
    c1->stop();
    CHECK_FALSE(c1->running());
    CHECK_THAT(c1->stopped_reason(), Catch::Contains("stopped by the application"));
    const auto joined = c1->join("tcp://127.0.0.1:9");
    CHECK(joined.status == op_status::stopped);
    CHECK_THAT(joined.reason, Catch::Contains("new Node"));
}

TEST_CASE("sync_join to nowhere times out instead of blocking", "[join]") {
    auto c1 = make_node("c1", role::client);
    const auto started = std::chrono::steady_clock::now();
    const auto result = c1->sync_join("tcp://127.0.0.1:9", 300ms);
    CHECK(result.status == op_status::timeout);
    CHECK(std::chrono::steady_clock::now() - started < 5s);
    CHECK(c1->join("not an endpoint").status == op_status::bad_endpoint);
}

TEST_CASE("join and sync_join by node_spec join a server and a client through its router endpoint", "[join][spec]") {
    auto s1 = make_node("s1", role::server);
    auto s2 = make_node("s2", role::server);
    auto c1 = make_node("c1", role::client);
    auto c2 = make_node("c2", role::client);

    const auto server_joined = s2->sync_join(s1->status().self, 10s);
    INFO(server_joined.reason);
    REQUIRE(server_joined.ok());

    // A spec as an orchestrator holds it: taken from a member's view, not from the node itself.
    std::optional<node_spec> s2_spec;
    for (const auto& spec : s1->members_for_orchestration())
        if (spec.name == "s2") s2_spec = spec;
    REQUIRE(s2_spec);
    const auto client_joined = c1->sync_join(*s2_spec, 10s);
    INFO(client_joined.reason);
    REQUIRE(client_joined.ok());
    CHECK(c1->status().self.home_server == "s2");

    // A client's spec refers the joiner on to that client's server, as its endpoint would.
    REQUIRE(c2->join(c1->status().self).ok());
    const std::vector<std::string> all{"c1", "c2", "s1", "s2"};
    WAIT_FOR("all four converge",
             s1->members() == all && s2->members() == all && c1->members() == all && c2->members() == all);
    CHECK(c2->status().self.home_server == "s2");
}

TEST_CASE("a spec without a dialable endpoint, or naming this node, answers a clear error", "[join][spec]") {
    auto s1 = make_node("s1", role::server);
    auto c1 = make_node("c1", role::client);
    node_spec spec = s1->status().self;

    spec.router_endpoint.clear();
    auto result = c1->sync_join(spec, 1s);
    CHECK(result.status == op_status::bad_endpoint);
    CHECK_THAT(result.reason, Catch::Contains("no router endpoint"));

    spec.router_endpoint = "tcp://*:7000";
    result = c1->join(spec);
    CHECK(result.status == op_status::bad_endpoint);
    CHECK_THAT(result.reason, Catch::Contains("wildcard"));

    spec.router_endpoint = "not an endpoint";
    CHECK(c1->join(spec).status == op_status::bad_endpoint);

    result = s1->sync_join(s1->status().self, 1s);
    CHECK(result.status == op_status::refused);
    CHECK_THAT(result.reason, Catch::Contains("names this node"));

    CHECK(s1->members() == std::vector<std::string>{"s1"});
    CHECK(c1->members() == std::vector<std::string>{"c1"});
}

TEST_CASE("a spec whose endpoint answers under another name joins with a warning naming both", "[join][spec]") {
    auto s1 = make_node("s1", role::server);
    auto s2 = make_node("s2", role::server);
    node_spec stale = s1->status().self;
    stale.name = "s9";  // what an old spec says lives at s1's endpoint

    const auto result = s2->sync_join(stale, 10s);
    INFO(result.reason);
    REQUIRE(result.ok());
    CHECK_THAT(result.reason, Catch::Contains("named 's9'") && Catch::Contains("'s1' answered"));
    CHECK(s2->status().counters["join_spec_name_mismatch"] == 1);

    // A spec that names who answers joins without a word.
    auto s3 = make_node("s3", role::server);
    const auto matching = s3->sync_join(s1->status().self, 10s);
    CHECK(matching.ok());
    CHECK(matching.reason.empty());
    CHECK(s3->status().counters["join_spec_name_mismatch"] == 0);
}
