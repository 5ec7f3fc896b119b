// What the messaging tests share: a cluster of 3 servers and 4 clients (two per server),
// inboxes that collect what arrives, and senders of numbered streams whose order is checked.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "cluster_fixture.hpp"

namespace zpartisan::test {

using namespace std::chrono_literals;

struct received {
    std::mutex mutex;
    std::vector<inbound_message> messages;
    void add(const inbound_message& m) {
        std::lock_guard lock(mutex);
        messages.push_back(m);
    }
    std::size_t size() {
        std::lock_guard lock(mutex);
        return messages.size();
    }
    std::vector<inbound_message> copy() {
        std::lock_guard lock(mutex);
        return messages;
    }
};

// Payloads are sequence numbers i sent with partition key i % keys (no key when keys is 0):
// within a key (or a sender's unkeyed flow) they must arrive in increasing order.
inline void check_order_per_key(const std::vector<inbound_message>& arrived, int keys) {
    std::map<std::pair<std::string, int>, int> last_by_key;
    for (const auto& m : arrived) {
        const int i = std::stoi(m.payload);
        auto [it, first] = last_by_key.try_emplace({m.from, keys > 0 ? i % keys : 0}, i);
        if (!first) {
            CHECK(i > it->second);
            it->second = i;
        }
    }
}

// Sends 0..count-1 to the "work" handler of `to` on `channel`, number i with partition key
// i % keys (none when keys is 0) and, when ack_every > 0, acked every ack_every-th; a
// congested send is retried. Returns the first other status, or ok: the caller checks it, since
// Catch2's assertions are not safe from a second thread.
[[nodiscard]] inline send_status send_numbered(Node& from, const std::string& to, int count, int keys, int ack_every,
                                               const std::string& channel = "default") {
    for (int i = 0; i < count; ++i) {
        message_options options;
        options.channel = channel;
        if (keys > 0) options.partition_key = static_cast<std::uint64_t>(i % keys);
        options.ack = ack_every > 0 && i % ack_every == 0;
        send_status status;
        while ((status = from.forward_message(to, "work", std::to_string(i), options)) == send_status::congested)
            std::this_thread::sleep_for(1ms);
        if (status != send_status::ok) return status;
    }
    return send_status::ok;
}

// s1, whose acks time out after ack_timeout_ms, and s2, which joined it and then hung: its
// connections stay open and it never acks or answers.
struct beside_a_hung_peer {
    static config config_of(std::uint64_t ack_timeout_ms) {
        auto cfg = test_config("s1", role::server);
        cfg.ack_timeout_ms = ack_timeout_ms;
        return cfg;
    }
    Node s1;
    std::unique_ptr<Node> s2 = make_node("s2", role::server);

    explicit beside_a_hung_peer(std::uint64_t ack_timeout_ms) : s1(config_of(ack_timeout_ms)) {
        REQUIRE(s2->sync_join(s1.router_endpoint(), 10s).ok());
        s2->register_handler("work", [](const inbound_message&) {});
        WAIT_FOR("route to s2", s1.forward_message("s2", "work", "warm-up") == send_status::ok);
        s2->stop();
    }
};

struct messaging_cluster {
    // Declared before the nodes so they outlive them: handlers may run until a node is gone.
    std::map<std::string, std::shared_ptr<received>> inbox, work;
    std::vector<std::unique_ptr<Node>> nodes;
    std::map<std::string, Node*> by_name;

    bool inline_handlers = false;

    explicit messaging_cluster(bool run_handlers_inline = false) : inline_handlers(run_handlers_inline) {
        for (const auto* name : {"s1", "s2", "s3"}) add(name, role::server);
        for (const auto* name : {"c1", "c2", "c3", "c4"}) add(name, role::client);
        REQUIRE(node("s2").sync_join(node("s1").router_endpoint(), 10s).ok());
        REQUIRE(node("s3").sync_join(node("s1").router_endpoint(), 10s).ok());
        REQUIRE(node("c1").sync_join(node("s1").router_endpoint(), 10s).ok());
        REQUIRE(node("c2").sync_join(node("s1").router_endpoint(), 10s).ok());
        REQUIRE(node("c3").sync_join(node("s2").router_endpoint(), 10s).ok());
        REQUIRE(node("c4").sync_join(node("s3").router_endpoint(), 10s).ok());
        WAIT_FOR("all 7 converged and settled", [&] {
            for (auto& [name, n] : by_name)
                if (n->members().size() != 7 || !n->status().settled) return false;
            return true;
        }());
        WAIT_FOR("every node knows every client's home", [&] {
            std::vector<const Node*> all;
            for (auto& [name, n] : by_name) all.push_back(n);
            return every_client_home_known(all);
        }());
        for (auto& [name, n] : by_name) {
            inbox[name] = std::make_shared<received>();
            work[name] = std::make_shared<received>();
            n->register_handler("inbox", [r = inbox[name]](const inbound_message& m) { r->add(m); });
            n->register_handler("work", [r = work[name]](const inbound_message& m) { r->add(m); });
            n->register_handler("echo", [n = n](const inbound_message& m) { (void)n->reply(m, "echo:" + m.payload); });
        }
        // Routes are known once every node has seen every other reachable.
        WAIT_FOR("everyone reachable everywhere", [&] {
            for (auto& [name, n] : by_name)
                for (const auto& entry : n->liveness())
                    if (!entry.reachable) return false;
            return true;
        }());
    }

    void add(const std::string& name, role r) {
        // Messaging is under test here, not failure detection: a slower heartbeat keeps a
        // loaded 2-core machine from seeing false failures in the middle of a test.
        auto cfg = test_config(name, r);
        cfg.heartbeat_interval_ms = 250;
        cfg.missed_heartbeats = 4;
        cfg.inline_handlers = inline_handlers;
        cfg.channels["bulk"] = 4;  // four connections per peer, so order across them is tested
        nodes.push_back(std::make_unique<Node>(cfg));
        by_name[name] = nodes.back().get();
    }
    Node& node(const std::string& name) { return *by_name.at(name); }
};

}  // namespace zpartisan::test
