// What an operator's tools see of a node: the events `watch` streams (sampled differences),
// the health verdict a readiness probe gets, the Prometheus names the counters become, and
// the watch stream's subscriptions (renewal, expiry, heartbeats, sequence numbers).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "daemon/health_check.hpp"
#include "daemon/membership_events.hpp"
#include "daemon/metrics_exporter.hpp"
#include "daemon/watch_stream.hpp"

using namespace zpartisan;
using namespace zpartisan::daemon;
using nlohmann::json;

namespace {

member_sample member(std::string role, std::string home = "", std::uint64_t incarnation = 1, bool reachable = true) {
    member_sample m{std::move(role), std::move(home), incarnation, {}};
    m.liveness.reachable = reachable;
    return m;
}

std::vector<std::string> kinds_and_nodes(const std::vector<membership_event>& events) {
    std::vector<std::string> out;
    for (const auto& e : events) out.push_back(e.kind + " " + e.node);
    return out;
}

}  // namespace

TEST_CASE("membership events: join, restart, rehome, up, down with evidence, partition, heal, removal, stop",
          "[operations][watch]") {
    membership_sample before;
    before.members = {{"s1", member("server")},
                      {"s2", member("server")},
                      {"c1", member("client", "s1")},
                      {"c2", member("client", "s2")}};
    before.partitions = {{"ref-1", "s2"}};
    auto after = before;
    after.members["s3"] = member("server");
    after.members["c1"].home = "s2";
    after.members["s2"].liveness.reachable = false;
    after.members["s2"].liveness.detected_by = "s1";
    after.members["s2"].liveness.silent_ms = 310;
    after.members["s2"].liveness.connection_lost = true;
    after.members.erase("c2");
    after.partitions = {{"ref-2", "s3"}, {"ref-2", "c1"}};  // one ref cutting two peers
    auto events = changes_between(before, after);
    CHECK(kinds_and_nodes(events) == std::vector<std::string>{"join s3", "rehome c1", "down s2", "partition c1",
                                                              "partition s3", "heal s2", "removed c2"});
    const auto down = to_json(events[2]);
    CHECK(down["detected_by"] == "s1");
    CHECK(down["silent_ms"] == 310);
    CHECK(down["connection_lost"] == true);
    CHECK(to_json(events[1])["previous_home"] == "s1");
    CHECK(to_json(events[3])["ref"] == "ref-2");

    auto restarted = after;
    restarted.members["s2"] = member("server", "", 2, true);
    restarted.running = false;
    restarted.stopped_reason = "left the cluster";
    events = changes_between(after, restarted);
    CHECK(kinds_and_nodes(events) == std::vector<std::string>{"restart s2", "up s2", "stopped "});
    CHECK(to_json(events[2])["reason"] == "left the cluster");
    CHECK(changes_between(restarted, restarted).empty());
}

TEST_CASE("health: running, settled, a client's home and a server's servers reachable, or the reason",
          "[operations][health]") {
    node_status status;
    status.running = true;
    status.settled = true;
    status.self = node_spec{"s1", role::server, "tcp://127.0.0.1:1", "", "", 1, "", ""};
    const std::vector<node_spec> members = {status.self,
                                            node_spec{"s2", role::server, "tcp://127.0.0.1:2", "", "", 1, "", ""},
                                            node_spec{"c9", role::client, "tcp://127.0.0.1:3", "", "s2", 1, "", ""}};
    liveness_info s2{"s2", true, true, "", 0, 10, 0, false};
    liveness_info c9{"c9", false, false, "s2", 500, 0, 0, false};  // a client down does not make a server unhealthy
    CHECK(judge_health(true, "", status, members, {s2, c9}).healthy);

    s2.reachable = false;
    s2.detected_by = "s1";
    s2.silent_ms = 320;
    s2.connection_lost = true;
    auto verdict = judge_health(true, "", status, members, {s2, c9});
    CHECK_FALSE(verdict.healthy);
    CHECK(verdict.reason == "server s2 is unreachable (detected by s1, silent 320 ms, connection lost)");

    status.settled = false;
    status.dials = {{"tcp://127.0.0.1:2", "", false}};
    s2.reachable = true;
    verdict = judge_health(true, "", status, members, {s2});
    CHECK(verdict.reason == "not settled: no welcome yet from tcp://127.0.0.1:2");

    verdict = judge_health(false, "removed from the cluster by another node", status, members, {s2});
    CHECK(verdict.reason == "not running: removed from the cluster by another node");

    node_status client;
    client.running = true;
    client.settled = true;
    client.self = node_spec{"c1", role::client, "tcp://127.0.0.1:4", "", "", 1, "", ""};
    CHECK(judge_health(true, "", client, members, {}).reason == "no home server: not attached to any server yet");
    client.self.home_server = "s2";
    CHECK(judge_health(true, "", client, members, {s2}).healthy);
    s2.reachable = false;
    s2.detected_by = "c1";
    s2.silent_ms = 300;
    s2.connection_lost = false;
    CHECK(judge_health(true, "", client, members, {s2}).reason ==
          "home server s2 is unreachable (detected by c1, silent 300 ms)");
}

TEST_CASE("metrics: the node's counters under Prometheus names, gauges apart", "[operations][metrics]") {
    const auto families = families_of_counters({{"relayed", 7},
                                                {"dropped_partitioned_in", 2},
                                                {"dropped_decode_frame shorter than the header", 1},
                                                {"received_hello", 3},
                                                {"stalled_frames", 4},
                                                {"unacked", 5},
                                                {"anti_entropy_rounds", 9}});
    std::map<std::string, const prometheus::MetricFamily*> by_name;
    for (const auto& f : families) by_name[f.name] = &f;
    REQUIRE(by_name.contains("zpartisan_messages_relayed_total"));
    CHECK(by_name["zpartisan_messages_relayed_total"]->type == prometheus::MetricType::Counter);
    CHECK(by_name["zpartisan_messages_relayed_total"]->metric.at(0).counter.value == 7);
    REQUIRE(by_name.contains("zpartisan_drops_total"));
    const auto& drops = by_name["zpartisan_drops_total"]->metric;
    REQUIRE(drops.size() == 2);
    CHECK(drops[0].label.at(0).name == "reason");
    CHECK(drops[0].label.at(0).value == "decode_frame shorter than the header");
    CHECK(drops[1].label.at(0).value == "partitioned_in");
    CHECK(by_name["zpartisan_messages_received_total"]->metric.at(0).label.at(0).value == "hello");
    CHECK(by_name["zpartisan_stalled_frames"]->type == prometheus::MetricType::Gauge);
    CHECK(by_name["zpartisan_stalled_frames"]->metric.at(0).gauge.value == 4);
    CHECK(by_name["zpartisan_unacked_messages"]->metric.at(0).gauge.value == 5);
    CHECK(by_name.contains("zpartisan_anti_entropy_rounds_total"));
}

TEST_CASE("watch stream: subscribe, renew, heartbeats, numbered events, expiry, unwatch, a bound on watchers",
          "[operations][watch]") {
    std::vector<std::pair<std::vector<std::string>, json>> sent;
    watch_stream stream([&sent](const control::control_message& to, const std::string& text) {
        sent.emplace_back(to.route, json::parse(text));
    });
    using clock = watch_stream::clock;
    const auto t0 = clock::time_point{} + std::chrono::hours(1);
    control::control_message a{R"({"cmd":"watch"})", {"a", ""}};
    CHECK_FALSE(stream.take({R"({"cmd":"status"})", {"a", ""}}, t0));
    CHECK_FALSE(stream.take({"not json", {"a", ""}}, t0));
    REQUIRE(stream.take(a, t0));
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].second["watching"] == true);
    CHECK(stream.watched());

    stream.publish({{"down", "s2", {{"silent_ms", 300}}}, {"up", "s2", {}}}, t0 + std::chrono::milliseconds(100));
    REQUIRE(sent.size() == 3);
    CHECK(sent[1].second["event"] == "down");
    CHECK(sent[1].second["seq"] == 1);
    CHECK(sent[2].second["seq"] == 2);
    stream.publish({}, t0 + std::chrono::milliseconds(600));
    CHECK(sent.size() == 3);  // no heartbeat due yet
    stream.publish({}, t0 + std::chrono::milliseconds(1200));
    REQUIRE(sent.size() == 4);
    CHECK(sent[3].second["event"] == "heartbeat");
    CHECK(sent[3].second["seq"] == 3);

    REQUIRE(stream.take(a, t0 + std::chrono::milliseconds(4000)));  // renewed, not a second watcher
    stream.publish({{"join", "s3", {}}}, t0 + std::chrono::milliseconds(8000));
    CHECK(sent.back().second["seq"] == 4);
    stream.publish({}, t0 + std::chrono::milliseconds(9500));  // 5.5 s since the renewal
    CHECK_FALSE(stream.watched());

    REQUIRE(stream.take(a, t0));
    REQUIRE(stream.take({R"({"cmd":"unwatch"})", {"a", ""}}, t0));
    CHECK_FALSE(stream.watched());
    for (std::size_t i = 0; i < watch_stream::max_watchers; ++i)
        REQUIRE(stream.take({a.text, {std::to_string(i), ""}}, t0));
    REQUIRE(stream.take({a.text, {"one too many", ""}}, t0));
    CHECK(sent.back().second["ok"] == false);
}
