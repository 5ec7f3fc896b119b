// sync_join's promise over real sockets (docs/protocol.md §3): once it returns ok, messages
// flow both ways between the joiner and the nodes it joined, plain and acked, without
// waiting for a retransmission.
#include <atomic>
#include <future>

#include "cluster_fixture.hpp"

using namespace zpartisan;
using namespace zpartisan::test;
using namespace std::chrono_literals;

namespace {

// A long heartbeat: an acked message that waited for the next retransmission would arrive
// seconds late, and the sender's retransmissions counter would say so.
std::unique_ptr<Node> slow_beat_node(const std::string& name, role r) {
    auto cfg = test_config(name, r);
    cfg.heartbeat_interval_ms = 2000;
    return std::make_unique<Node>(cfg);
}

struct counting_handler {
    std::shared_ptr<std::atomic<int>> got = std::make_shared<std::atomic<int>>(0);
    void install(Node& node) {
        node.register_handler("h", [got = got](const inbound_message&) { ++*got; });
    }
};

// Sends one plain and one acked message from `from` to `to` at once; both must go out, the
// acked one must be reported delivered, and neither may need a retransmission.
void both_kinds_flow(Node& from, const std::string& to) {
    INFO(from.name() << " -> " << to);
    CHECK(from.forward_message(to, "h", "plain") == send_status::ok);
    std::promise<delivery_report> report;
    auto reported = report.get_future();
    message_options acked;
    acked.ack = true;
    acked.on_report = [&report](const delivery_report& r) { report.set_value(r); };
    REQUIRE(from.forward_message(to, "h", "acked", acked) == send_status::ok);
    REQUIRE(reported.wait_for(10s) == std::future_status::ready);
    const auto r = reported.get();
    CHECK(r.delivered);
    CHECK(from.status().counters["retransmissions"] == 0);
}

}  // namespace

TEST_CASE("after a client's sync_join, its server and it exchange plain and acked messages at once", "[join][ready]") {
    auto s1 = slow_beat_node("s1", role::server);
    auto c1 = slow_beat_node("c1", role::client);
    counting_handler at_s1, at_c1;
    at_s1.install(*s1);
    at_c1.install(*c1);
    REQUIRE(c1->sync_join(s1->router_endpoint(), 10s).ok());
    both_kinds_flow(*s1, "c1");
    both_kinds_flow(*c1, "s1");
    WAIT_FOR("both plain and acked arrive both ways", *at_c1.got == 2 && *at_s1.got == 2);
}

TEST_CASE("after a server's sync_join, it and every server exchange plain and acked messages at once",
          "[join][ready]") {
    auto s1 = slow_beat_node("s1", role::server);
    auto s2 = slow_beat_node("s2", role::server);
    auto s3 = slow_beat_node("s3", role::server);
    counting_handler at_s1, at_s2, at_s3;
    at_s1.install(*s1);
    at_s2.install(*s2);
    at_s3.install(*s3);
    REQUIRE(s2->sync_join(s1->router_endpoint(), 10s).ok());
    both_kinds_flow(*s1, "s2");
    both_kinds_flow(*s2, "s1");
    // s3 joins through s1 alone: s2 learns of it from s1 and must have dialed it too.
    REQUIRE(s3->sync_join(s1->router_endpoint(), 10s).ok());
    both_kinds_flow(*s1, "s3");
    both_kinds_flow(*s2, "s3");
    both_kinds_flow(*s3, "s1");
    both_kinds_flow(*s3, "s2");
    WAIT_FOR("every message arrives", *at_s1.got == 4 && *at_s2.got == 4 && *at_s3.got == 4);
}
