// Membership replication over real sockets: PUB/SUB may lose deltas, membership may not diverge.
#include "cluster_fixture.hpp"

using namespace zpartisan;
using namespace zpartisan::test;
using namespace std::chrono_literals;

namespace {

struct cluster {
    std::vector<std::unique_ptr<Node>> nodes;
    std::map<std::string, Node*> by_name;

    Node& add(const std::string& name, role r, std::uint32_t gossip_interval_ms) {
        auto cfg = test_config(name, r);
        cfg.gossip_interval_ms = gossip_interval_ms;
        nodes.push_back(std::make_unique<Node>(cfg));
        by_name[name] = nodes.back().get();
        return *nodes.back();
    }
    Node& operator[](const std::string& name) { return *by_name.at(name); }

    std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (const auto& [name, node] : by_name)
            if (node->status().running) out.push_back(name);
        return out;
    }
    bool converged() {
        const auto expected = names();
        for (auto& [name, node] : by_name)
            if (node->status().running && node->members() != expected) return false;
        return true;
    }
    // What each node sees, for the failure message of a wait.
    std::string views() {
        std::string out;
        for (auto& [name, node] : by_name) {
            out += name + (node->status().running ? ":" : " (stopped):");
            for (const auto& m : node->members()) out += " " + m;
            out += "\n";
        }
        return out;
    }
    std::uint64_t total(const std::string& counter) {
        std::uint64_t sum = 0;
        for (auto& [name, node] : by_name) {
            auto counters = node->status().counters;
            sum += counters.contains(counter) ? counters.at(counter) : 0;
        }
        return sum;
    }

    // 3 servers + 6 clients, two clients per server.
    void build(std::uint32_t gossip_interval_ms) {
        for (int i = 1; i <= 3; ++i) add("s" + std::to_string(i), role::server, gossip_interval_ms);
        for (int i = 1; i <= 6; ++i) add("c" + std::to_string(i), role::client, gossip_interval_ms);
        REQUIRE((*this)["s2"].sync_join((*this)["s1"].router_endpoint(), 10s).ok());
        REQUIRE((*this)["s3"].sync_join((*this)["s1"].router_endpoint(), 10s).ok());
        for (int i = 1; i <= 6; ++i) {
            const auto home = "s" + std::to_string(1 + (i - 1) / 2);
            REQUIRE((*this)["c" + std::to_string(i)].sync_join((*this)[home].router_endpoint(), 10s).ok());
        }
    }
};

constexpr std::uint32_t no_anti_entropy_ms = 3'600'000;

}  // namespace

TEST_CASE("a dropped delta is repaired by the gap rule alone", "[replication]") {
    cluster c;
    c.build(no_anti_entropy_ms);  // only gap repair can fix anything here
    WAIT_FOR("3 servers + 6 clients converge", c.converged());

    c["s1"].inject_publish_loss(1.0);
    c.add("c7", role::client, no_anti_entropy_ms);
    REQUIRE(c["c7"].sync_join(c["s2"].router_endpoint(), 10s).ok());  // s1 re-publishes to c1, c2: lost
    WAIT_FOR("s1 lost c7's arrival on its PUB", [&] {
        for (const auto& spec : c["s1"].members_for_orchestration())
            if (spec.name == "c7" && spec.home_server == "s2")
                return c["s1"].status().counters["publish_dropped_by_fault_injection"] >= 2;
        return false;
    }());
    c["s1"].inject_publish_loss(0.0);
    c.add("c8", role::client, no_anti_entropy_ms);
    REQUIRE(c["c8"].sync_join(c["s2"].router_endpoint(), 10s).ok());  // the next delta reveals the gap
    WAIT_FOR("c1 and c2 repair what s1's PUB lost", c.converged());
    CHECK(c.total("delta_gaps") >= 2);
    CHECK(c.total("publish_dropped_by_fault_injection") >= 1);
}

TEST_CASE("anti-entropy repairs a publisher that loses everything", "[replication]") {
    cluster c;
    c.build(100);
    c["s2"].inject_publish_loss(1.0);
    c.add("c7", role::client, 100);
    REQUIRE(c["c7"].sync_join(c["s2"].router_endpoint(), 10s).ok());
    REQUIRE(c["c2"].leave().ok());
    if (!eventually([&] { return c.converged(); })) FAIL("not converged although anti-entropy runs:\n" << c.views());
    CHECK(c["s1"].members() == (std::vector<std::string>{"c1", "c3", "c4", "c5", "c6", "c7", "s1", "s2", "s3"}));
    CHECK(c.total("anti_entropy_rounds") > 0);
}

TEST_CASE("a removed node can join again and update_members reshapes membership", "[replication]") {
    cluster c;
    c.build(100);
    WAIT_FOR("converged", c.converged());
    REQUIRE(c["s3"].leave("c1").ok());
    WAIT_FOR("c1 stops", !c["c1"].status().running);
    WAIT_FOR("c1 gone everywhere", c.converged());

    // A restarted c1 (new incarnation) joins again; stale gossip never brought the old one back.
    c.nodes.erase(std::find_if(c.nodes.begin(), c.nodes.end(), [](auto& n) { return n->name() == "c1"; }));
    c.by_name.erase("c1");
    c.add("c1", role::client, 100);
    REQUIRE(c["c1"].sync_join(c["s1"].router_endpoint(), 10s).ok());
    WAIT_FOR("c1 is back everywhere", c.converged() && c["s3"].members().front() == "c1");

    // update_members: drop c6, add a spec for a not-yet-running node.
    auto specs = c["s1"].members_for_orchestration();
    specs.erase(std::remove_if(specs.begin(), specs.end(), [](auto& s) { return s.name == "c6"; }), specs.end());
    specs.push_back(node_spec{"planned", role::client, "tcp://127.0.0.1:1", "", "s1", 1, "", ""});
    REQUIRE(c["s1"].update_members(specs).ok());
    WAIT_FOR("c6 learns it was removed", !c["c6"].status().running);
    WAIT_FOR("every running node lists 'planned' and not c6", [&] {
        for (auto& [name, node] : c.by_name) {
            if (!node->status().running) continue;
            auto m = node->members();
            if (std::find(m.begin(), m.end(), "planned") == m.end()) return false;
            if (std::find(m.begin(), m.end(), "c6") != m.end()) return false;
        }
        return true;
    }());
}
