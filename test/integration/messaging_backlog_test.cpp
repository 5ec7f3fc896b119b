// Back-pressure over real sockets: frames waiting for a full hop, for a hung or gone peer,
// following a re-homed client; a full handler queue.
#include <atomic>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "messaging_fixture.hpp"
#include "runtime/message_dispatcher.hpp"

using namespace zpartisan;
using namespace zpartisan::test;
using namespace std::chrono_literals;

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
    WAIT_FOR("s1's messages reach s2 again", ((void)s1->forward_message("s2", "work", "x"), got.load() > 0));
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
    WAIT_FOR("s1's connection to s3 is full: congested",
             s1.forward_message("s3", "work", payload) == send_status::congested);
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

TEST_CASE("frames waiting for a hung relay follow their client when it re-homes, in order", "[messaging][congestion]") {
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
        if (status == send_status::ok)
            ++next;
        else
            std::this_thread::sleep_for(1ms);
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

TEST_CASE("a full handler queue drops plain deliveries, never acked ones (they were acknowledged)",
          "[messaging][ack]") {
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
    while (dispatcher.run_queued(stop)) {}
    CHECK(handled == runtime::message_dispatcher::queue_max + 1);
}
