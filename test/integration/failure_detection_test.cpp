// Failure detection over real sockets with heartbeat 100 ms and X = 3.
#include <atomic>
#include <mutex>
#include <thread>

#include "cluster_fixture.hpp"

using namespace zpartisan;
using namespace zpartisan::test;
using namespace std::chrono_literals;

namespace {

std::optional<liveness_info> seen(const Node& observer, const std::string& name) {
    for (const auto& entry : observer.liveness())
        if (entry.node == name) return entry;
    return std::nullopt;
}

bool reachable(const Node& observer, const std::string& name) {
    auto entry = seen(observer, name);
    return entry && entry->reachable;
}

std::string home_of(const Node& observer, const std::string& name) {
    for (const auto& spec : observer.members_for_orchestration())
        if (spec.name == name) return spec.home_server;
    return "";
}

struct event_log {
    std::mutex mutex;
    std::vector<std::string> events;
    void add(std::string e) {
        std::lock_guard lock(mutex);
        events.push_back(std::move(e));
    }
    std::size_t count(const std::string& e) {
        std::lock_guard lock(mutex);
        return static_cast<std::size_t>(std::count(events.begin(), events.end(), e));
    }
};

}  // namespace

TEST_CASE("a stopped server is seen down everywhere, its client re-homes, on_down fires once", "[failure]") {
    event_log log;  // outlives the nodes: their callbacks may run until they are destroyed
    small_cluster c;
    auto& [s1, s2, s3, c1, c2] = c;
    const std::vector<std::string> all{"c1", "c2", "s1", "s2", "s3"};

    s2->on_down("s1", [&] { log.add("s2: s1 down"); });
    s2->on_down("*", [&](const std::string& who) { log.add("s2: * down " + who); });
    c2->on_down("s1", [&](const std::string& who) { log.add("c2: " + who + " down"); });
    s3->on_down("*", [](const std::string&) { throw std::runtime_error("a careless callback"); });
    s2->on_down("c1", [&] { log.add("s2: c1 down"); });
    s2->on_up("c1", [&] { log.add("s2: c1 up"); });

    const auto stopped_at = std::chrono::steady_clock::now();
    s1.reset();  // a crash: no leave, its TCP connections close
    WAIT_FOR("s2 sees s1 down", !reachable(*s2, "s1"));
    const auto detection = std::chrono::steady_clock::now() - stopped_at;
    WAIT_FOR("s3 sees s1 down", !reachable(*s3, "s1"));
    WAIT_FOR("c2 learns it from its server", !reachable(*c2, "s1"));
    WAIT_FOR("on_down fired for s1 on s2", log.count("s2: s1 down") == 1 && log.count("s2: * down s1") == 1);
    WAIT_FOR("c2's on_down fired", log.count("c2: s1 down") == 1);

    // The evidence is kept: who detected it and how long it was silent.
    const auto evidence = seen(*s2, "s1");
    REQUIRE(evidence);
    CHECK(evidence->direct);
    CHECK(evidence->detected_by == "s2");
    const auto hearsay = seen(*c2, "s1");
    REQUIRE(hearsay);
    CHECK(hearsay->detected_by != "");
    CHECK_FALSE(hearsay->direct);
    // Failure is not removal.
    CHECK(s2->members() == all);

    WAIT_FOR("c1 re-homes to a live server on its own",
             c1->status().self.home_server == "s2" || c1->status().self.home_server == "s3");
    const auto new_home = c1->status().self.home_server;
    WAIT_FOR("c1's new home is known cluster-wide",
             home_of(*s2, "c1") == new_home && home_of(*s3, "c1") == new_home && home_of(*c2, "c1") == new_home);
    WAIT_FOR("c1 is reachable again everywhere", reachable(*s2, "c1") && reachable(*s3, "c1") && reachable(*c2, "c1"));
    // c1 went down with its server (unless its move outran s2's detection) and, if it did,
    // came back up after re-homing: the events pair up, at most once each.
    WAIT_FOR("s2's on_up followed its on_down for the re-homed client",
             log.count("s2: c1 down") == log.count("s2: c1 up") && log.count("s2: c1 down") <= 1);
    CHECK(c1->status().dials.size() == 1);
    // A throwing callback did not hurt the node.
    CHECK(s3->status().running);
    CHECK(s3->status().counters["callback_failures"] >= 1);
    std::printf("crash of s1 seen by s2 after %lld ms (heartbeat 100 ms, X = 3)\n",
                static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(detection).count()));
    // Events fire once per transition, not once per heartbeat.
    CHECK(log.count("s2: s1 down") == 1);
}

TEST_CASE("a server that comes back is up again and on_up fires", "[failure]") {
    std::atomic<int> ups{0}, downs{0};
    auto s1 = make_node("s1", role::server);
    auto s2 = make_node("s2", role::server);
    auto c1 = make_node("c1", role::client);
    REQUIRE(s2->sync_join(s1->router_endpoint(), 10s).ok());
    REQUIRE(c1->sync_join(s1->router_endpoint(), 10s).ok());
    const auto s2_endpoint = s2->router_endpoint();
    auto cfg = test_config("s2", role::server);
    cfg.router_bind_endpoint = s2_endpoint;  // the same address, as a restarted daemon would

    s1->on_down("s2", [&] { ++downs; });
    s2->stop();
    WAIT_FOR("s1 sees s2 down", !reachable(*s1, "s2"));
    // Callbacks run in order on their own thread: once on_down ran, the up of the first
    // join is behind us and the next on_up is the comeback.
    WAIT_FOR("on_down ran", downs.load() == 1);
    const auto handle = s1->on_up("s2", [&] { ++ups; });
    s2.reset();
    s2 = std::make_unique<Node>(cfg);  // fresh state: it is s1 that dials it again
    WAIT_FOR("s1 sees s2 up again", reachable(*s1, "s2"));
    WAIT_FOR("on_up fired once", ups.load() == 1);
    WAIT_FOR("the restarted s2 relearns the cluster", s2->members() == (std::vector<std::string>{"c1", "s1", "s2"}));
    CHECK(s1->remove_callback(handle));
    CHECK_FALSE(s1->remove_callback(handle));
}

TEST_CASE("a hung server (silent, connections open) is seen down after X heartbeats", "[failure]") {
    auto s1 = make_node("s1", role::server);
    auto s2 = make_node("s2", role::server);
    REQUIRE(s2->sync_join(s1->router_endpoint(), 10s).ok());
    WAIT_FOR("s2 watches s1", reachable(*s2, "s1"));
    const auto hung_at = std::chrono::steady_clock::now();
    s1->stop();  // the reactor stops; the sockets stay open like a SIGSTOPped process's
    WAIT_FOR("s2 sees s1 down", !reachable(*s2, "s1"));
    const auto detection = std::chrono::steady_clock::now() - hung_at;
    const auto evidence = seen(*s2, "s1");
    REQUIRE(evidence);
    CHECK(evidence->missed_heartbeats >= 3);
    CHECK_FALSE(evidence->connection_lost);
    std::printf("hang of s1 seen by s2 after %lld ms (heartbeat 100 ms, X = 3)\n",
                static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(detection).count()));
}

TEST_CASE("a slow callback stalls neither heartbeats nor other nodes' views", "[failure]") {
    std::atomic<bool> release{false};
    std::atomic<int> calls{0};
    auto s1 = make_node("s1", role::server);
    auto s2 = make_node("s2", role::server);
    s1->on_up("*", [&](const std::string&) {
        ++calls;
        while (!release) std::this_thread::sleep_for(5ms);  // blocks the callback thread only
    });
    // Declared after the nodes: a failed wait releases the callback before they are destroyed.
    struct releaser {
        std::atomic<bool>& flag;
        ~releaser() { flag = true; }
    } release_at_exit{release};
    REQUIRE(s2->sync_join(s1->router_endpoint(), 10s).ok());
    WAIT_FOR("the slow callback is running", calls.load() == 1);
    // While it blocks, both reactors go on: each sends 20 more control messages (a heartbeat
    // every 100 ms, and anti-entropy), several times the 3 missed heartbeats a stalled node
    // is failed for, and neither sees the other fail meanwhile.
    const auto control_sent = [](const Node& n) { return n.status().counters.at("control_messages_out"); };
    const auto s1_before = control_sent(*s1);
    const auto s2_before = control_sent(*s2);
    bool both_reachable = true;
    WAIT_FOR("20 more control messages from each", [&] {
        both_reachable = both_reachable && reachable(*s1, "s2") && reachable(*s2, "s1");
        return control_sent(*s1) >= s1_before + 20 && control_sent(*s2) >= s2_before + 20;
    }());
    CHECK(both_reachable);
}
