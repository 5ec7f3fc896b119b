// Application messaging over real sockets, the API itself: every kind of send between every
// pair, errors as results, references, local delivery.
#include <atomic>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "messaging_fixture.hpp"
#include "core/messages.hpp"
#include "wire/codec.hpp"

using namespace zpartisan;
using namespace zpartisan::test;
using namespace std::chrono_literals;

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

    core::forward bridged{"bridge", 1,     "s1", "work",   core::delivery_kind::cast, "default", 0, 0,
                          0,        false, "",   "bridged"};
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

TEST_CASE("references work for call and cast too, and endless timeouts do not overflow", "[messaging]") {
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
