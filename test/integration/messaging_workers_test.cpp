// The threads that run handlers: a handler may block, stop or destroy its own node, and inline
// handlers may change what they handle mid-delivery.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include "messaging_fixture.hpp"
#include "core/messages.hpp"
#include "wire/codec.hpp"

using namespace zpartisan;
using namespace zpartisan::test;
using namespace std::chrono_literals;

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

TEST_CASE("an inline handler that removes itself and delivers another message in place runs on intact", "[messaging]") {
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
        core::forward nested{"bridge", 1,     "s1", "inner", core::delivery_kind::forward, "default", 0, 0,
                             0,        false, "",   "n"};
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
        // The destructor has stopped the reactor and goes on to join the workers, this one
        // among them. Polled without an assertion: Catch2's are not safe off the test's thread.
        const bool destructor_stopping = eventually([node] { return !node->running(); });
        node->stop();
        returned = destructor_stopping;
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

TEST_CASE("a handler that blocks holds only the handlers: relaying, calls and heartbeats go on",
          "[messaging][workers]") {
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
    for (const auto& name : {"s1", "s3", "c3"})
        CHECK(c.node(name).status().counters["events_down"] == downs_before[n++]);
}
