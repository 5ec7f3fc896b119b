// Order over real sockets: per sender, receiver, channel and key, across relays, between plain
// and acked messages, direct and queued sends, and bundles.
#include <atomic>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "messaging_fixture.hpp"

using namespace zpartisan;
using namespace zpartisan::test;
using namespace std::chrono_literals;

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
    c3.register_handler("bounce",
                        [&c3](const inbound_message& m) { (void)c3.forward_message(m.from, "inbox", m.payload); });
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
