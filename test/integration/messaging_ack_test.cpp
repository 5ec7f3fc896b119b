// Acked messages over real sockets: exactly once across a cut connection, a bounded retransmit
// buffer, deadlines, and what a stop does to what waits for an ack.
#include <atomic>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "messaging_fixture.hpp"

using namespace zpartisan;
using namespace zpartisan::test;
using namespace std::chrono_literals;

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
    for (int i = 0; i < count; ++i)
        REQUIRE(c.node("c1").forward_message("c3", "work", std::to_string(i), acked) == send_status::ok);
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
        if (status == send_status::ok)
            ++ok;
        else if (status == send_status::congested)
            ++congested;
        else
            ++other;
    }
    CHECK(other == 0);
    CHECK(ok <= 10'000);  // the retransmit buffer's bound
    CHECK(congested >= 300);
    WAIT_FOR("every accepted message is in the retransmit buffer",
             s1.status().counters["unacked"] == static_cast<std::uint64_t>(ok));
    CHECK(failures.load() == 0);  // none dropped after its sender heard ok
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
        if (heard.wait_for(5s) != std::future_status::ready)
            outcome.set_value("no report");
        else
            outcome.set_value(heard.get() ? "delivered" : "failed");
    });
    REQUIRE(s1->forward_message("s1", "relay-and-wait", "go") == send_status::ok);
    REQUIRE(result.wait_for(20s) == std::future_status::ready);
    CHECK(result.get() == "delivered");
}
