// Application messaging over real sockets: 3 servers and 4 clients (two per server).
#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>
#include <mutex>
#include <set>

#include "cluster_fixture.hpp"
#include "core/messages.hpp"
#include "runtime/message_dispatcher.hpp"
#include "wire/codec.hpp"

using namespace zpartisan;
using namespace zpartisan::test;
using namespace std::chrono_literals;

namespace {

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
void check_order_per_key(const std::vector<inbound_message>& arrived, int keys) {
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
[[nodiscard]] send_status send_numbered(Node& from, const std::string& to, int count, int keys, int ack_every,
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

}  // namespace

TEST_CASE("every ordered pair exchanges send, forward, cast and call, each to the right handler", "[messaging]") {
    const bool inline_handlers = GENERATE(false, true);
    CAPTURE(inline_handlers);
    messaging_cluster c(inline_handlers);
    std::size_t pairs = 0;
    for (auto& [from, sender] : c.by_name) {
        for (auto& [to, receiver] : c.by_name) {
            const auto tag = from + "->" + to;
            REQUIRE(sender->send_message(to, "send " + tag) == send_status::ok);
            REQUIRE(sender->forward_message(to, "work", "forward " + tag) == send_status::ok);
            REQUIRE(sender->cast_message(to, "work", "cast " + tag) == send_status::ok);
            const auto answer = sender->call(to, "echo", tag, 10s);
            INFO(tag << ": " << to_string(answer.status));
            if (!answer.ok())
                for (const auto* name : {"s1", "s2", "s3", "c3", "c4"})
                    for (const auto& [key, value] : c.node(name).status().counters)
                        if (key.find("drop") != std::string::npos || key.find("retrans") != std::string::npos ||
                            key.find("send") == 0 || key.find("unacked") == 0 || key.find("relayed") == 0)
                            std::printf("%s %s=%llu\n", name, key.c_str(), static_cast<unsigned long long>(value));
            REQUIRE(answer.ok());
            CHECK(answer.payload == "echo:" + tag);
            ++pairs;
        }
    }
    CHECK(pairs == 49);
    WAIT_FOR("every inbox got 7 sends and every work handler 14 messages", [&] {
        for (auto& [name, r] : c.inbox)
            if (r->size() != 7 || c.work[name]->size() != 14) return false;
        return true;
    }());
    for (auto& [name, r] : c.inbox) {
        for (const auto& m : r->copy()) {
            CHECK(m.kind == message_kind::send);
            CHECK(m.payload == "send " + m.from + "->" + name);
        }
        std::set<std::string> kinds;
        for (const auto& m : c.work[name]->copy()) {
            CHECK(m.handler == "work");
            const auto expected_prefix = m.kind == message_kind::cast ? "cast " : "forward ";
            CHECK(m.payload == expected_prefix + m.from + "->" + name);
        }
    }
    // Client to client across two servers went through relays.
    CHECK(c.node("s1").status().counters["relayed"] > 0);
}

TEST_CASE("order holds per sender, receiver, channel and key, across two relays", "[messaging]") {
    const bool inline_handlers = GENERATE(false, true);
    CAPTURE(inline_handlers);
    messaging_cluster c(inline_handlers);
    constexpr int count = 2000;
    REQUIRE(send_numbered(c.node("c1"), "c4", count, 3, 0) == send_status::ok);
    WAIT_FOR("all arrived", c.work["c4"]->size() == count);
    check_order_per_key(c.work["c4"]->copy(), 3);

    // A channel of four connections: keys spread over them, and each key keeps its order;
    // without a key the destination picks one, so a sender's flow to it keeps its order too.
    // Two senders at once, through two relays and through one.
    for (const int keys : {8, 0}) {
        CAPTURE(keys);
        c.work["c4"] = std::make_shared<received>();
        c.node("c4").register_handler("work", [r = c.work["c4"]](const inbound_message& m) { r->add(m); });
        auto second_status = send_status::ok;
        std::thread second([&] { second_status = send_numbered(c.node("s2"), "c4", count, keys, 0, "bulk"); });
        const auto first_status = send_numbered(c.node("c1"), "c4", count, keys, 0, "bulk");
        second.join();
        REQUIRE(first_status == send_status::ok);
        REQUIRE(second_status == send_status::ok);
        WAIT_FOR("all arrived on the bulk channel", c.work["c4"]->size() == 2 * count);
        check_order_per_key(c.work["c4"]->copy(), keys);
    }
}

TEST_CASE("plain and acked messages of one flow keep one order", "[messaging][ack]") {
    const bool inline_handlers = GENERATE(false, true);
    CAPTURE(inline_handlers);
    messaging_cluster c(inline_handlers);
    // Bursts that queue, mixing the two kinds: an acked message goes through the core, a
    // plain one into a bundle; neither may overtake the other in one sender's flow.
    constexpr int count = 1500;
    REQUIRE(send_numbered(c.node("c1"), "c4", count, 2, 5) == send_status::ok);
    WAIT_FOR("all arrived", c.work["c4"]->size() == count);
    check_order_per_key(c.work["c4"]->copy(), 2);
}

TEST_CASE("errors are results: unknown node, unknown handler, too large, unknown channel", "[messaging]") {
    std::promise<delivery_report> report;
    messaging_cluster c;
    CHECK(c.node("c1").forward_message("nobody", "work", "x") == send_status::unknown_node);
    CHECK(c.node("c1").forward_message("c3", "work", std::string(5u << 20, 'x')) == send_status::too_large);
    message_options bogus;
    bogus.channel = "no-such-channel";
    CHECK_THROWS_AS(c.node("c1").forward_message("c3", "work", "x", bogus), usage_error);

    message_options acked;
    acked.ack = true;
    acked.on_report = [&](const delivery_report& r) { report.set_value(r); };
    REQUIRE(c.node("c1").forward_message("c3", "no-such-handler", "x", acked) == send_status::ok);
    auto future = report.get_future();
    REQUIRE(future.wait_for(5s) == std::future_status::ready);
    const auto r = future.get();
    CHECK_FALSE(r.delivered);
    CHECK(r.reason == "unknown_handler");
    WAIT_FOR("counted at the receiver", c.node("c3").status().counters["dropped_unknown_handler"] >= 1);
    // Plain ones are read in place at the receiver and dropped there too, counted per message
    // whether they came alone or bundled.
    const auto counted = c.node("c3").status().counters["dropped_unknown_handler"];
    constexpr std::uint64_t plain = 50;
    for (std::uint64_t i = 0; i < plain; ++i)
        REQUIRE(c.node("c1").forward_message("c3", "no-such-handler", "x") == send_status::ok);
    WAIT_FOR("every plain one counted", c.node("c3").status().counters["dropped_unknown_handler"] == counted + plain);
    CHECK(c.node("c1").forward_message("work@c3", "by reference") == send_status::ok);
    WAIT_FOR("the reference reached c3's work handler", c.work["c3"]->size() == 1);
    CHECK_THROWS_AS(c.node("c1").forward_message("no-at-sign", "x"), usage_error);
}

TEST_CASE("acked messages survive a cut connection and are handled exactly once", "[messaging][ack]") {
    std::atomic<int> delivered{0}, failed{0};
    messaging_cluster c;
    message_options acked;
    acked.ack = true;
    acked.on_report = [&](const delivery_report& r) { (r.delivered ? delivered : failed)++; };

    // c3's home server drops off the network: c3 is unreachable until it re-homes.
    const auto cut = c.node("s2").inject_partition("s2");
    REQUIRE(cut.ok());
    constexpr int count = 50;
    for (int i = 0; i < count; ++i) REQUIRE(c.node("c1").forward_message("c3", "work", std::to_string(i), acked) == send_status::ok);
    WAIT_FOR("c3 re-homes away from the cut server", c.node("c3").status().self.home_server != "s2");
    WAIT_FOR("all acked: retransmissions follow c3 to its new home", delivered.load() == count);
    REQUIRE(c.node("s1").resolve_partition(cut.ref).ok());
    CHECK(failed.load() == 0);
    const auto got = c.work["c3"]->copy();
    std::set<std::string> unique;
    for (const auto& m : got) unique.insert(m.payload);
    CHECK(unique.size() == count);
    CHECK(got.size() == count);  // once each, retransmissions notwithstanding
    CHECK(c.node("c1").status().counters["retransmissions"] > 0);
}

TEST_CASE("a full retransmit buffer is congested at the call, not a message dropped after ok", "[messaging][ack]") {
    auto patient = [](const std::string& name) {
        auto cfg = test_config(name, role::server);
        cfg.heartbeat_interval_ms = 1000;  // retransmissions once a second, no failure in sight
        cfg.missed_heartbeats = 30;
        cfg.ack_timeout_ms = 60'000;
        return cfg;
    };
    std::atomic<int> failures{0};  // before the nodes: their reports may run while they stop
    Node s1(patient("s1")), s2(patient("s2"));
    REQUIRE(s2.sync_join(s1.router_endpoint(), 10s).ok());
    WAIT_FOR("s1 routes to s2", s1.forward_message("s2", "work", "") == send_status::ok);
    s2.stop();  // silent, sockets open: nothing is ever acked
    message_options acked;
    acked.ack = true;
    acked.on_report = [&failures](const delivery_report& r) {
        if (!r.delivered) ++failures;
    };
    int ok = 0, congested = 0, other = 0;
    for (int i = 0; i < 10'300; ++i) {
        const auto status = s1.forward_message("s2", "work", "x", acked);
        if (status == send_status::ok) ++ok;
        else if (status == send_status::congested) ++congested;
        else ++other;
    }
    CHECK(other == 0);
    CHECK(ok <= 10'000);  // the retransmit buffer's bound
    CHECK(congested >= 300);
    WAIT_FOR("every accepted message is in the retransmit buffer",
             s1.status().counters["unacked"] == static_cast<std::uint64_t>(ok));
    CHECK(failures.load() == 0);  // none dropped after its sender heard ok
}

TEST_CASE("a failed peer's full connection does not hold up traffic to the others", "[messaging][congestion]") {
    auto small_queues = [](const std::string& name) {
        auto cfg = test_config(name, role::server);
        cfg.send_high_water_mark = 20;
        return cfg;
    };
    auto s1 = std::make_unique<Node>(small_queues("s1"));
    auto s2 = std::make_unique<Node>(small_queues("s2"));
    auto s3 = std::make_unique<Node>(small_queues("s3"));
    REQUIRE(s2->sync_join(s1->router_endpoint(), 10s).ok());
    REQUIRE(s3->sync_join(s1->router_endpoint(), 10s).ok());
    WAIT_FOR("s1 routes to s2 and s3", s1->forward_message("s2", "none", "") == send_status::ok &&
                                           s1->forward_message("s3", "none", "") == send_status::ok);
    std::atomic<int> got{0};
    s2->register_handler("work", [&got](const inbound_message&) { ++got; });
    s3->stop();  // hung, as a SIGSTOPped process: its connections stay open and fill up
    // Fill s1's connection to it (TCP buffers, then ZeroMQ's queue) before s1 sees it failed;
    // the sends may also meet congested or, once it is seen failed, unreachable.
    const std::string payload(64 * 1024, 'x');
    for (int i = 0; i < 600; ++i) (void)s1->forward_message("s3", "work", payload);
    WAIT_FOR("s1's messages reach s2 again", (s1->forward_message("s2", "work", "x"), got.load() > 0));
    WAIT_FOR("s1 sees s3 failed", [&] {
        for (const auto& entry : s1->liveness())
            if (entry.node == "s3") return !entry.reachable;
        return false;
    }());
}

TEST_CASE("a hung peer's full connection is congested for it alone: the others' messages go on",
          "[messaging][congestion]") {
    auto patient = [](const std::string& name) {
        auto cfg = test_config(name, role::server);
        cfg.send_high_water_mark = 20;
        cfg.heartbeat_interval_ms = 1000;  // neither failure detection nor ZeroMQ's heartbeat
        cfg.missed_heartbeats = 30;        // recycles the hung peer's connection in this test
        return cfg;
    };
    Node s1(patient("s1")), s2(patient("s2")), s3(patient("s3"));
    REQUIRE(s2.sync_join(s1.router_endpoint(), 10s).ok());
    REQUIRE(s3.sync_join(s1.router_endpoint(), 10s).ok());
    WAIT_FOR("s1 routes to s2 and s3", s1.forward_message("s2", "none", "") == send_status::ok &&
                                           s1.forward_message("s3", "none", "") == send_status::ok);
    std::atomic<int> got{0};
    s2.register_handler("work", [&got](const inbound_message&) { ++got; });
    s3.stop();  // hung: its connections stay open and fill up
    const std::string payload(64 * 1024, 'x');
    WAIT_FOR("s1's connection to s3 is full: congested", s1.forward_message("s3", "work", payload) == send_status::congested);
    REQUIRE(s1.forward_message("s2", "work", "x") == send_status::ok);
    WAIT_FOR("s2 got it while s3 still holds up its own", got.load() == 1, 5s);
    CHECK(s1.forward_message("s3", "work", payload) == send_status::congested);
    CHECK(s1.status().counters["dropped_backlog_full"] == 0);
}

TEST_CASE("frames waiting for a peer gone for good do not wait for ever: dropped, counted, after the detection time",
          "[messaging][congestion]") {
    // Failure detection (and ZeroMQ's heartbeat, which recycles the connection) after 3 s:
    // until then nothing s1 queued for the hung s2 can leave, however slow the machine.
    auto patient = [](const std::string& name) {
        auto cfg = test_config(name, role::server);
        cfg.send_high_water_mark = 20;
        cfg.missed_heartbeats = 30;
        return cfg;
    };
    Node s1(patient("s1"));
    auto s2 = std::make_unique<Node>(patient("s2"));
    REQUIRE(s2->sync_join(s1.router_endpoint(), 10s).ok());
    WAIT_FOR("s1 routes to s2", s1.forward_message("s2", "none", "") == send_status::ok);
    s2->stop();  // hung: its connections stay open and fill up
    const std::string payload(64 * 1024, 'x');
    // A burst queues at once; what its hop cannot take waits (senders then hear congested).
    for (int i = 0; i < 600; ++i) (void)s1.forward_message("s2", "work", payload);
    WAIT_FOR("frames wait for s2's full connection", s1.status().counters["stalled_frames"] > 0);
    // Then gone, as after kill -9: its port refuses connections, and the full queue ZeroMQ
    // keeps for the peer never drains. The frames waiting behind it must not wait for ever,
    // holding a quarter of the node's budget and blocking direct sends for everyone.
    s2.reset();
    // (Some may still leave: while s2's sockets close, its kernel takes what TCP held, and
    // s1's queue moves a little. What is left then is dropped and counted.)
    WAIT_FOR("nothing waits for s2 any more", s1.status().counters["stalled_hops"] == 0, 20s);
    CHECK(s1.status().counters["stalled_frames"] == 0);
}

TEST_CASE("frames waiting for a hung relay follow their client when it re-homes, in order",
          "[messaging][congestion]") {
    // c1 notices its home s1 hang quickly and re-homes to s2. s2 would notice s1 only after
    // 3 s (neither its detector nor ZeroMQ's heartbeat recycles its connection to s1 before),
    // so s2 still holds frames for c1 waiting for that full connection when c1 arrives: its
    // own, and c2's, which s2 relays and which keep coming while c1 moves.
    auto s1_cfg = test_config("s1", role::server);
    s1_cfg.send_high_water_mark = 20;
    auto s2_cfg = test_config("s2", role::server);
    s2_cfg.send_high_water_mark = 20;
    s2_cfg.missed_heartbeats = 30;
    Node s1(s1_cfg), s2(s2_cfg);
    REQUIRE(s2.sync_join(s1.router_endpoint(), 10s).ok());
    auto c1 = make_node("c1", role::client);
    auto c2 = make_node("c2", role::client);
    REQUIRE(c1->sync_join(s1.router_endpoint(), 10s).ok());
    REQUIRE(c2->sync_join(s2.router_endpoint(), 10s).ok());
    std::mutex mutex;
    std::map<std::string, std::vector<int>> arrived;  // by sender
    c1->register_handler("work", [&](const inbound_message& m) {
        std::lock_guard lock(mutex);
        arrived[m.from].push_back(std::stoi(m.payload.substr(0, m.payload.find(' '))));
    });
    auto numbered = [](int i, std::size_t padding) { return std::to_string(i) + " " + std::string(padding, 'x'); };
    auto count_from = [&](const std::string& sender) {
        std::lock_guard lock(mutex);
        return arrived[sender].size();
    };
    WAIT_FOR("s2 reaches c1 through s1", s2.forward_message("c1", "work", numbered(-1, 0)) == send_status::ok);
    WAIT_FOR("c2 reaches c1 through s2 and s1", c2->forward_message("c1", "work", numbered(-1, 0)) == send_status::ok);
    WAIT_FOR("the probes arrived", count_from("s2") == 1 && count_from("c2") == 1);

    std::atomic<bool> moved{false};
    std::atomic<int> c2_sent{0};
    std::thread relayed([&] {
        // Through s2 as a relay, before, during and after the move; bounded by s2's backlog.
        for (int i = 0; i < 20000 && !moved; ++i) {
            if (c2->forward_message("c1", "work", numbered(c2_sent, 512)) == send_status::ok) ++c2_sent;
            std::this_thread::sleep_for(200us);
        }
    });
    s1.stop();  // hung: its connections stay open and fill up
    // s2 keeps its connection to s1 full until c1 has moved: whatever left s2 is lost in s1,
    // what still waits at s2 is the newest frames, and those must reach c1.
    int next = 0;
    while (c1->status().self.home_server != "s2") {
        const auto status = s2.forward_message("c1", "work", numbered(next, 64 * 1024));
        if (status == send_status::ok) ++next;
        else std::this_thread::sleep_for(1ms);
        REQUIRE(next < 20000);
    }
    WAIT_FOR("nothing waits at s2 any more", s2.status().counters["stalled_frames"] == 0);
    CHECK(s2.status().counters["stalled_frames_rerouted"] > 0);
    WAIT_FOR("s2 sends to c1 directly", [&] {
        const auto status = s2.forward_message("c1", "work", numbered(next, 0));
        if (status == send_status::ok) ++next;
        return status == send_status::ok;
    }());
    moved = true;
    relayed.join();
    REQUIRE(c2->forward_message("c1", "work", numbered(20000, 0)) == send_status::ok);
    WAIT_FOR("the last messages reach c1", [&] {
        std::lock_guard lock(mutex);
        return !arrived["s2"].empty() && arrived["s2"].back() == next - 1 && !arrived["c2"].empty() &&
               arrived["c2"].back() == 20000;
    }());
    std::lock_guard lock(mutex);
    for (const auto& [sender, numbers] : arrived) {
        CAPTURE(sender);
        CHECK(std::is_sorted(numbers.begin(), numbers.end()));
        CHECK(std::adjacent_find(numbers.begin(), numbers.end()) == numbers.end());
    }
    // Each stream: a prefix went through s1 before it hung, what reached s1's buffers is
    // lost, and the rest (what waited at s2, then what went straight to c1) is all there.
    const auto missing_block = [](const std::vector<int>& numbers, int last) {
        std::vector<int> missing;
        for (int i = 0; i <= last; ++i)
            if (!std::binary_search(numbers.begin(), numbers.end(), i)) missing.push_back(i);
        return missing.empty() || missing.back() - missing.front() + 1 == static_cast<int>(missing.size());
    };
    CHECK(missing_block(arrived["s2"], next - 1));
    CHECK(missing_block(arrived["c2"], c2_sent.load() - 1));
    CHECK(s2.status().counters["dropped_backlog_full"] == 0);
}

TEST_CASE("an acked message to a node that never answers fails at the deadline", "[messaging][ack]") {
    std::promise<delivery_report> report;
    beside_a_hung_peer pair(300);
    Node& s1 = pair.s1;
    message_options acked;
    acked.ack = true;
    acked.on_report = [&](const delivery_report& r) { report.set_value(r); };
    REQUIRE(s1.forward_message("s2", "work", "lost", acked) == send_status::ok);
    auto future = report.get_future();
    REQUIRE(future.wait_for(5s) == std::future_status::ready);
    CHECK(future.get().reason == "timeout");
}

TEST_CASE("stopping fails what waits for an ack at once: reports and calls say stopped", "[messaging][ack]") {
    beside_a_hung_peer pair(60000);
    Node& s1 = pair.s1;
    std::promise<delivery_report> report;
    message_options acked;
    acked.ack = true;
    acked.on_report = [&](const delivery_report& r) { report.set_value(r); };
    REQUIRE(s1.forward_message("s2", "work", "lost", acked) == send_status::ok);
    auto answer = std::async(std::launch::async, [&] { return s1.call("s2", "work", "question", 30s); });
    WAIT_FOR("both wait for their acks", s1.status().counters["unacked"] == 2);
    const auto stopping = std::chrono::steady_clock::now();
    s1.stop();
    auto reported = report.get_future();
    REQUIRE(reported.wait_for(5s) == std::future_status::ready);
    CHECK(reported.get().reason == "stopped");
    REQUIRE(answer.wait_for(5s) == std::future_status::ready);
    const auto result = answer.get();
    CHECK_FALSE(result.answered);
    CHECK(result.failure == "stopped");
    CHECK(std::chrono::steady_clock::now() - stopping < 5s);
}

TEST_CASE("a node stopped by its own handler fails a waiting call at once, and reports run off its workers",
          "[messaging][ack]") {
    beside_a_hung_peer pair(60000);
    Node& s1 = pair.s1;
    s1.register_handler("halt", [&s1](const inbound_message&) { s1.stop(); });
    auto answer = std::async(std::launch::async, [&] { return s1.call("s2", "work", "question", 30s); });
    WAIT_FOR("the call waits for its ack", s1.status().counters["unacked"] == 1);
    const auto halted = std::chrono::steady_clock::now();
    REQUIRE(s1.forward_message("s1", "halt", "") == send_status::ok);  // no one outside calls stop()
    REQUIRE(answer.wait_for(5s) == std::future_status::ready);
    const auto result = answer.get();
    CHECK(result.failure == "stopped");
    CHECK(std::chrono::steady_clock::now() - halted < 5s);
}

TEST_CASE("a call waiting in an on_up callback ends with stopped when the node stops", "[messaging][ack]") {
    std::promise<call_result> answered;
    beside_a_hung_peer pair(60000);
    Node& s1 = pair.s1;
    // The callback thread runs the reports of a stop: this call's cannot reach it meanwhile.
    s1.on_up("c3", [&] { answered.set_value(s1.call("s2", "work", "question", 30s)); });
    auto c3 = make_node("c3", role::client);
    REQUIRE(c3->sync_join(s1.router_endpoint(), 10s).ok());
    WAIT_FOR("the callback's call waits for its ack", s1.status().counters["unacked"] == 1);
    s1.stop();
    auto result = answered.get_future();
    REQUIRE(result.wait_for(5s) == std::future_status::ready);
    CHECK(result.get().failure == "stopped");
}

TEST_CASE("references carry the incarnation, and too_large is about the frame, not a fixed allowance", "[messaging]") {
    auto cfg = test_config("s1", role::server);
    cfg.max_message_bytes = 4096;
    Node s1(cfg);
    const auto reference = s1.make_reference();
    CHECK(reference.starts_with("zp.ref." + std::to_string(s1.status().self.incarnation) + "."));
    CHECK(reference.ends_with("@s1"));
    CHECK(s1.make_reference() != reference);
    received got;
    s1.register_handler("work", [&got](const inbound_message& m) { got.add(m); });
    CHECK(s1.forward_message("s1", "work", std::string(3500, 'x')) == send_status::ok);
    CHECK(s1.forward_message("s1", "work", std::string(4096, 'x')) == send_status::too_large);
    WAIT_FOR("the 3,500-byte message arrived", got.size() == 1);
}

TEST_CASE("local delivery, and receive_message as the single inbound entry", "[messaging]") {
    received got;
    auto s1 = make_node("s1", role::server);
    s1->register_handler("work", [&](const inbound_message& m) { got.add(m); });
    REQUIRE(s1->forward_message("s1", "work", "to myself") == send_status::ok);
    WAIT_FOR("delivered locally", got.size() == 1);

    core::forward bridged{"bridge", 1, "s1", "work", core::delivery_kind::cast, "default", 0, 0, 0, false, "", "bridged"};
    REQUIRE(s1->receive_message("bridge", "default", wire::encode(bridged)).ok());
    WAIT_FOR("delivered through receive_message", got.size() == 2);
    CHECK(got.copy()[1].kind == message_kind::cast);
    CHECK(s1->receive_message("bridge", "default", "garbage").status == op_status::refused);
    CHECK(s1->call("s1", "missing", "x", 200ms).answered == false);
}

TEST_CASE("a call to a handler a node lacks ends with the reason, not at its timeout", "[messaging]") {
    std::atomic<int> reports{0};
    auto s1 = make_node("s1", role::server);
    auto s2 = make_node("s2", role::server);
    REQUIRE(s2->sync_join(s1->router_endpoint(), 10s).ok());
    WAIT_FOR("s1 routes to s2", s1->forward_message("s2", "none", "") == send_status::ok);
    message_options options;
    options.on_report = [&reports](const delivery_report&) { ++reports; };
    const auto started = std::chrono::steady_clock::now();
    const auto result = s1->call("s2", "missing", "x", 30s, options);
    CHECK(std::chrono::steady_clock::now() - started < 10s);
    CHECK(result.status == send_status::ok);
    CHECK_FALSE(result.answered);
    CHECK(result.failure == "unknown_handler");
    WAIT_FOR("the caller's own report callback ran too", reports.load() == 1);
    // A channel the node does not have throws (and the reply handler goes with the call).
    options.channel = "no-such-channel";
    CHECK_THROWS_AS(s1->call("s2", "echo", "x", 1s, options), usage_error);
}

TEST_CASE("an inline handler that removes itself and delivers another message in place runs on intact",
          "[messaging]") {
    auto cfg = test_config("s1", role::server);
    cfg.inline_handlers = true;
    Node s1(cfg);
    std::promise<std::string> outer_saw;
    std::atomic<int> inner_ran{0};
    s1.register_handler("inner", [&](const inbound_message&) { ++inner_ran; });
    // The outer handler's own state lives in its closure; removing it while it runs and then
    // delivering a message to another handler from inside it (receive_message runs on the
    // spot on the reactor's thread) must not destroy the closure under its feet.
    const std::string state(64, 'q');
    s1.register_handler("outer", [&s1, &outer_saw, state](const inbound_message&) {
        s1.unregister_handler("outer");
        core::forward nested{"bridge", 1, "s1", "inner", core::delivery_kind::forward, "default", 0, 0, 0, false, "", "n"};
        (void)s1.receive_message("bridge", "default", wire::encode(nested));
        outer_saw.set_value(state);
    });
    REQUIRE(s1.forward_message("s1", "outer", "go") == send_status::ok);
    auto saw = outer_saw.get_future();
    REQUIRE(saw.wait_for(5s) == std::future_status::ready);
    CHECK(saw.get() == std::string(64, 'q'));
    CHECK(inner_ran.load() == 1);
}

TEST_CASE("a handler may not call() its own node: the reply could only be handled after it", "[messaging]") {
    const bool inline_handlers = GENERATE(false, true);
    CAPTURE(inline_handlers);
    std::promise<std::string> outcome;
    std::atomic<bool> answered{false};
    messaging_cluster c(inline_handlers);
    Node& s2 = c.node("s2");
    s2.register_handler("blocking", [&](const inbound_message&) {
        std::string what;
        try {
            (void)s2.call("s1", "echo", "x", 1s);
            what = "call returned";
        } catch (const usage_error& e) {
            what = e.what();
        }
        // Non-blocking sends are fine from here.
        (void)s2.forward_message("s1", "work", "from a handler");
        if (!answered.exchange(true)) outcome.set_value(what);
    });
    REQUIRE(c.node("c3").forward_message("s2", "blocking", "go") == send_status::ok);
    auto result = outcome.get_future();
    REQUIRE(result.wait_for(10s) == std::future_status::ready);
    CHECK_THAT(result.get(), Catch::Contains("this node's handlers"));
    WAIT_FOR("the handler's forward arrived", c.work["s1"]->size() == 1);
}

TEST_CASE("a handler may stop its own node", "[messaging][workers]") {
    const bool inline_handlers = GENERATE(false, true);
    CAPTURE(inline_handlers);
    messaging_cluster c(inline_handlers);
    Node& s2 = c.node("s2");
    std::atomic<bool> returned{false};
    s2.register_handler("shutdown", [&](const inbound_message&) {
        s2.stop();  // joins every worker but the one it runs on
        returned = true;
    });
    REQUIRE(c.node("c1").forward_message("s2", "shutdown", "") == send_status::ok);
    WAIT_FOR("stop() returned inside the handler", returned.load());
    WAIT_FOR("s2 is stopped", s2.forward_message("s1", "work", "late") == send_status::stopped);
    // The cluster's destructor, on this thread, joins the worker that ran the handler.
}

TEST_CASE("a handler stopping its node while another thread destroys it: both finish", "[messaging][workers]") {
    std::atomic<bool> started{false}, destroying{false}, returned{false};
    auto s1 = make_node("s1", role::server);
    Node* node = s1.get();
    s1->register_handler("halt", [&, node](const inbound_message&) {
        started = true;
        while (!destroying) std::this_thread::yield();
        std::this_thread::sleep_for(20ms);  // the destructor is joining this worker by now
        node->stop();
        returned = true;
    });
    REQUIRE(s1->forward_message("s1", "halt", "") == send_status::ok);
    WAIT_FOR("the handler runs", started.load());
    destroying = true;
    s1.reset();  // joins the workers, the handler's among them
    CHECK(returned.load());
}

namespace {
// Threads of this process whose name ends in ":<node>" (zpw0:, zpw1:, zpe: ...).
std::size_t threads_of(const std::string& node) {
    std::size_t found = 0;
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
        std::ifstream comm(task.path() / "comm");
        std::string name;
        std::getline(comm, name);
        if (name.size() > node.size() && name.ends_with(":" + node)) ++found;
    }
    return found;
}
}  // namespace

TEST_CASE("a node destroyed from its own handler or callback stops, and its threads finish", "[messaging][workers]") {
    const bool inline_handlers = GENERATE(false, true);
    const bool from_callback = GENERATE(false, true);
    CAPTURE(inline_handlers, from_callback);
    auto s1 = make_node("s1", role::server);
    auto cfg = test_config("doomed", role::server);
    cfg.inline_handlers = inline_handlers;
    auto doomed = std::make_unique<Node>(cfg);
    WAIT_FOR("its threads named themselves", threads_of("doomed") >= 2);
    std::atomic<bool> destroyed{false};
    auto destroy = [&doomed, &destroyed] {
        doomed.reset();
        destroyed = true;  // the handler runs on after its node is gone
    };
    doomed->register_handler("die", [&destroy](const inbound_message&) { destroy(); });
    REQUIRE(doomed->sync_join(s1->router_endpoint(), 10s).ok());
    // From here on this thread calls nothing on doomed: its handler or callback may destroy it
    // at any moment.
    std::unique_ptr<Node> s3;
    if (from_callback) {
        doomed->on_up("s3", destroy);  // fires once doomed hears from s3, which joins next
        s3 = make_node("s3", role::server);
        // Not sync_join: that waits for s3 to reach every server, doomed included.
        REQUIRE(s3->join(s1->router_endpoint()).ok());
    } else {
        WAIT_FOR("s1 can reach doomed", s1->forward_message("doomed", "die", "") == send_status::ok);
    }
    WAIT_FOR("the handler destroyed its node and returned", destroyed.load());
    WAIT_FOR("the node's threads finished", threads_of("doomed") == 0);
    WAIT_FOR("s1 sees it down", [&] {
        for (const auto& entry : s1->liveness())
            if (entry.node == "doomed") return !entry.reachable;
        return false;
    }());
}

TEST_CASE("an inline handler's burst leaves as its first message and one bundle, in order", "[messaging][bundle]") {
    constexpr int burst = 100;
    std::atomic<int> sent{-1};
    messaging_cluster c(true);
    Node& s2 = c.node("s2");
    // An inline handler holds s2's reactor: its first message goes straight out (it waits
    // behind nothing), and what it sends right after waits in the queue and is packed into
    // one bundle, which c4's home server s3 relays.
    s2.register_handler("burst", [&](const inbound_message&) {
        int ok = 0;
        for (int i = 0; i < burst; ++i) ok += s2.forward_message("c4", "work", std::to_string(i)) == send_status::ok;
        sent = ok;
    });
    const auto before = s2.status().counters;
    REQUIRE(c.node("c1").forward_message("s2", "burst", "go") == send_status::ok);
    WAIT_FOR("all arrived", c.work["c4"]->size() == burst);
    CHECK(sent.load() == burst);
    const auto messages = c.work["c4"]->copy();
    for (int i = 0; i < burst; ++i) {
        CHECK(messages[i].payload == std::to_string(i));
        CHECK(messages[i].from == "s2");
        CHECK(messages[i].handler == "work");
    }
    auto after = s2.status().counters;
    const auto direct = after["messages_sent_directly"] - before.at("messages_sent_directly");
    const auto bundled = after["bundled_messages_out"] - before.at("bundled_messages_out");
    // A handler preempted between two sends (over 5 µs apart) may send one more directly
    // while the queue is still empty; never once a message has queued: the rest join it.
    CHECK(direct >= 1);
    CHECK(direct + bundled == burst);
    CHECK(after["bundles_out"] - before.at("bundles_out") == (bundled > 0 ? 1 : 0));
}

TEST_CASE("a sender finds its reactor asleep and sends itself: direct and queued sends keep one order",
          "[messaging][direct]") {
    messaging_cluster c;
    Node& c1 = c.node("c1");
    Node& c3 = c.node("c3");
    c3.register_handler("bounce", [&c3](const inbound_message& m) { (void)c3.forward_message(m.from, "inbox", m.payload); });
    const auto before = c1.status().counters;

    // One message at a time: between round trips c1's reactor sleeps, so c1 sends each itself.
    constexpr int round_trips = 50;
    for (int i = 0; i < round_trips; ++i) {
        REQUIRE(c1.forward_message("c3", "bounce", std::to_string(i)) == send_status::ok);
        WAIT_FOR("the bounce came back", c.inbox["c1"]->size() == static_cast<std::size_t>(i + 1));
    }
    const auto bounced = c.inbox["c1"]->copy();
    for (int i = 0; i < round_trips; ++i) CHECK(bounced[i].payload == std::to_string(i));
    auto after_round_trips = c1.status().counters;
    CHECK(after_round_trips["messages_sent_directly"] - before.at("messages_sent_directly") >= round_trips / 2);

    // Bursts (queued, bundled) and pauses (sent directly) mixed in one stream and three keys.
    constexpr int count = 3000;
    for (int i = 0; i < count; ++i) {
        message_options options;
        options.partition_key = static_cast<std::uint64_t>(i % 3);
        send_status status;
        while ((status = c1.forward_message("c3", "work", std::to_string(i), options)) == send_status::congested)
            std::this_thread::sleep_for(1ms);
        REQUIRE(status == send_status::ok);
        if (i % 7 == 0) std::this_thread::sleep_for(50us);  // a pause: the next send is not part of a burst
    }
    WAIT_FOR("all arrived", c.work["c3"]->size() == count);
    check_order_per_key(c.work["c3"]->copy(), 3);
    auto after = c1.status().counters;
    CHECK(after["messages_sent_directly"] > after_round_trips["messages_sent_directly"]);
    CHECK(after["bundles_out"] > after_round_trips["bundles_out"]);
}

TEST_CASE("a handler that blocks holds only the handlers: relaying, calls and heartbeats go on", "[messaging][workers]") {
    messaging_cluster c;  // handlers off the reactor (the default)
    Node& s2 = c.node("s2");
    std::atomic<bool> release{false}, stalled{false};
    s2.register_handler("stall", [&](const inbound_message&) {
        stalled = true;
        // Blocks until the test lets it go (bounded, so a failing test cannot hang).
        zpartisan::test::eventually([&] { return release.load(); }, 30s);
    });
    s2.register_handler("after", [r = c.work["s2"]](const inbound_message& m) { r->add(m); });
    std::vector<std::uint64_t> downs_before;
    for (const auto& name : {"s1", "s3", "c3"}) downs_before.push_back(c.node(name).status().counters["events_down"]);

    REQUIRE(c.node("c1").forward_message("s2", "stall", "") == send_status::ok);
    WAIT_FOR("the stall handler runs", stalled.load());
    constexpr int queued = 50;
    for (int i = 0; i < queued; ++i)
        REQUIRE(c.node("s1").forward_message("s2", "after", std::to_string(i)) == send_status::ok);

    // s2 still relays (c3's home is s2), answers its own API and stays reachable.
    REQUIRE(c.node("c1").forward_message("c3", "inbox", "through s2") == send_status::ok);
    WAIT_FOR("c1 -> s2 -> c3 arrives while s2's handler blocks", c.inbox["c3"]->size() == 1);
    CHECK(s2.members().size() == 7);
    const auto later = std::chrono::steady_clock::now() + 3 * 250ms * 4;  // past three failure timeouts
    WAIT_FOR("time passes with the handler blocked", std::chrono::steady_clock::now() >= later, 10s);
    CHECK(c.work["s2"]->size() == 0);  // handlers run one at a time: the queued ones wait
    for (const auto* name : {"s1", "s3", "c3"})
        for (const auto& entry : c.node(name).liveness())
            if (entry.node == "s2") CHECK(entry.reachable);

    release = true;
    WAIT_FOR("the queued messages are handled, in order", c.work["s2"]->size() == queued);
    const auto handled = c.work["s2"]->copy();
    for (int i = 0; i < queued; ++i) CHECK(handled[i].payload == std::to_string(i));
    std::size_t n = 0;
    for (const auto& name : {"s1", "s3", "c3"}) CHECK(c.node(name).status().counters["events_down"] == downs_before[n++]);
}

TEST_CASE("a handler replaced in the middle of a bundle is not called for the rest of it", "[messaging][bundle]") {
    constexpr int burst = 100;
    messaging_cluster c(true);
    Node& s2 = c.node("s2");
    Node& c4 = c.node("c4");
    // As in the bundle test: an inline handler holding s2's reactor sends one bundle of 100.
    s2.register_handler("burst", [&](const inbound_message&) {
        for (int i = 0; i < burst; ++i) (void)s2.forward_message("c4", "numbers", std::to_string(i));
    });
    auto first = std::make_shared<received>(), second = std::make_shared<received>();
    c4.register_handler("numbers", [&c4, first, second](const inbound_message& m) {
        first->add(m);
        if (m.payload == "9")  // from here on, the replacement takes the messages
            c4.register_handler("numbers", [second](const inbound_message& later) { second->add(later); });
    });
    const auto before = s2.status().counters;
    REQUIRE(c.node("c1").forward_message("s2", "burst", "go") == send_status::ok);
    WAIT_FOR("all arrived", first->size() + second->size() == burst);
    CHECK(s2.status().counters["bundles_out"] - before.at("bundles_out") == 1);
    CHECK(first->size() == 10);
    const auto rest = second->copy();
    REQUIRE(rest.size() == burst - 10);
    for (int i = 0; i < burst - 10; ++i) CHECK(rest[i].payload == std::to_string(i + 10));
}

TEST_CASE("a send right after a partition hears it at once, through a relay too", "[messaging][partition]") {
    small_cluster c;
    received got;
    c.c2->register_handler("sink", [&got](const inbound_message& m) { got.add(m); });
    c.s2->register_handler("sink", [&got](const inbound_message& m) { got.add(m); });
    WAIT_FOR("s1 routes to c2", c.s1->forward_message("c2", "sink", "warm-up") == send_status::ok);
    WAIT_FOR("the warm-up arrived", got.size() == 1);
    const auto ref = c.s1->inject_partition("s1");
    REQUIRE(ref.ok());
    // A burst queues rather than going out directly: every one of them is refused as it is
    // made, none accepted and then dropped after queueing. c2 is not cut itself: its home,
    // s2, is the hop that is.
    std::map<send_status, int> outcomes;
    for (int i = 0; i < 2000; ++i) {
        ++outcomes[c.s1->forward_message("c2", "sink", "after the cut")];
        ++outcomes[c.s1->forward_message("s2", "sink", "after the cut")];
    }
    CHECK(outcomes[send_status::partitioned] == 4000);
    CHECK(c.s1->status().counters["sends_failed_after_queueing"] == 0);
    message_options acked;
    acked.ack = true;
    CHECK(c.s1->forward_message("c2", "sink", "acked", acked) == send_status::partitioned);
    REQUIRE(c.s1->resolve_partition(ref.ref).ok());
    WAIT_FOR("healed: s1 routes to c2 again", c.s1->forward_message("c2", "sink", "healed") == send_status::ok);
    WAIT_FOR("what was sent after the heal arrived", got.size() >= 2);
}

TEST_CASE("a handler may wait for its own acked message's report: reports run on the callback thread",
          "[messaging][ack]") {
    auto s1 = make_node("s1", role::server);
    auto s2 = make_node("s2", role::server);
    REQUIRE(s2->sync_join(s1->router_endpoint(), 10s).ok());
    s2->register_handler("sink", [](const inbound_message&) {});
    WAIT_FOR("s1 routes to s2", s1->forward_message("s2", "sink", "") == send_status::ok);
    std::promise<std::string> outcome;
    auto result = outcome.get_future();
    s1->register_handler("relay-and-wait", [&](const inbound_message&) {
        auto report = std::make_shared<std::promise<bool>>();
        auto heard = report->get_future();
        message_options acked;
        acked.ack = true;
        acked.on_report = [report](const delivery_report& r) { report->set_value(r.delivered); };
        if (s1->forward_message("s2", "sink", "from a handler", acked) != send_status::ok) {
            outcome.set_value("not sent");
            return;
        }
        // The report must not queue for the handlers behind this one: it would never come.
        if (heard.wait_for(5s) != std::future_status::ready) outcome.set_value("no report");
        else outcome.set_value(heard.get() ? "delivered" : "failed");
    });
    REQUIRE(s1->forward_message("s1", "relay-and-wait", "go") == send_status::ok);
    REQUIRE(result.wait_for(20s) == std::future_status::ready);
    CHECK(result.get() == "delivered");
}

TEST_CASE("references work for call and cast too, and endless timeouts do not overflow",
          "[messaging]") {
    auto make = [](const std::string& name) {
        auto cfg = test_config(name, role::server);
        cfg.channels["rpc"] = 2;
        return std::make_unique<Node>(cfg);
    };
    auto s1 = make("s1");
    auto s2 = make("s2");
    REQUIRE(s2->sync_join(s1->router_endpoint(), std::chrono::milliseconds::max()).ok());
    received got;
    s2->register_handler("echo", [&](const inbound_message& m) {
        got.add(m);
        if (!m.reply_to.empty()) (void)s2->reply(m, "re: " + m.payload + " on " + m.channel);
    });
    WAIT_FOR("s1 routes to s2", s1->forward_message("s2", "none", "") == send_status::ok);
    message_options on_rpc;
    on_rpc.channel = "rpc";
    const auto answer = s1->call("echo@s2", "ping", std::chrono::milliseconds::max(), on_rpc);
    CHECK(answer.status == send_status::ok);
    CHECK(answer.answered);
    CHECK(answer.payload == "re: ping on rpc");
    CHECK(s1->cast_message("echo@s2", "cast by reference") == send_status::ok);
    WAIT_FOR("the cast arrived", got.size() == 2);
    const auto messages = got.copy();
    CHECK(messages[1].kind == message_kind::cast);
    CHECK(messages[1].payload == "cast by reference");
    CHECK_THROWS_AS(s1->cast_message("no-at-sign", "x"), usage_error);
}

TEST_CASE("a full handler queue drops plain deliveries, never acked ones (they were acknowledged)", "[messaging][ack]") {
    runtime::message_dispatcher dispatcher("s1", false);
    std::size_t handled = 0;
    dispatcher.set_handler("work", [&handled](const inbound_message&) { ++handled; });
    const auto message = [] { return inbound_message{"s2", "work", message_kind::forward, "default", "p", ""}; };
    for (std::size_t i = 0; i < runtime::message_dispatcher::queue_max; ++i) dispatcher.post(message());
    dispatcher.post(message());
    CHECK(dispatcher.overflow_drops() == 1);
    dispatcher.post(message(), 0, true);
    CHECK(dispatcher.overflow_drops() == 1);
    const std::atomic<bool> stop{false};
    while (dispatcher.run_queued(stop)) {
    }
    CHECK(handled == runtime::message_dispatcher::queue_max + 1);
}
