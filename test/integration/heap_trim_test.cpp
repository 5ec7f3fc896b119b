// The daemon's heap trimmer (src/daemon/heap_trim.hpp): connections that come and go leave
// their heap with glibc, resident, until a trim hands it back.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "daemon/heap_trim.hpp"
#include "transport/zmq_transport.hpp"
#include "wait_for.hpp"

using namespace zpartisan;
using namespace zpartisan::daemon;
using namespace std::chrono_literals;

namespace {

// Anonymous resident memory of this process (the heap, not the mapped binaries), in KiB.
long rss_anon_kb() {
    FILE* status = std::fopen("/proc/self/status", "r");
    if (!status) return -1;
    char line[256];
    long kb = -1;
    while (std::fgets(line, sizeof line, status))
        if (std::strncmp(line, "RssAnon:", 8) == 0) kb = std::atol(line + 8);
    std::fclose(status);
    return kb;
}

}  // namespace

TEST_CASE("the heap trimmer trims after a clear fall of the live heap from its peak, at most once per gap",
          "[heap_trim]") {
    heap_trim_policy policy;
    policy.min_drop_bytes = 1000;
    policy.min_drop_divisor = 4;
    policy.min_gap = 5s;
    heap_trimmer trimmer(policy);
    const auto t0 = heap_trimmer::clock::time_point{} + 1h;
    CHECK_FALSE(trimmer.observe(10'000, t0));
    CHECK_FALSE(trimmer.observe(20'000, t0 + 1s));  // rising: nothing freed
    CHECK_FALSE(trimmer.observe(16'000, t0 + 2s));  // fell by 4000, less than a quarter of the peak
    CHECK(trimmer.observe(15'000, t0 + 3s));        // fell by a quarter
    trimmer.trimmed(15'000, t0 + 3s);
    CHECK(trimmer.peak_live_bytes() == 15'000);
    CHECK_FALSE(trimmer.observe(2'000, t0 + 4s));  // a further fall, but within the gap
    CHECK(trimmer.observe(2'000, t0 + 8s));        // the gap has passed: the fall from 15000 counts
    trimmer.trimmed(2'000, t0 + 8s);
    CHECK_FALSE(trimmer.observe(1'200, t0 + 20s));  // fell by 800, less than min_drop_bytes
}

TEST_CASE("connections that came and went stay resident until the heap trimmer hands their heap back", "[heap_trim]") {
    if (!heap_trimmer::supported()) {
        WARN("not glibc, or a sanitizer's allocator: nothing to trim");
        return;
    }
    // A server's ROUTER, as in the daemon, and peers dialing it from a context of their own.
    transport::transport_options options;
    options.name = "server";
    options.node_role = role::server;
    options.router_bind_endpoint = "tcp://127.0.0.1:*";
    options.pub_bind_endpoint = "tcp://127.0.0.1:*";
    transport::zmq_transport server(options);
    std::vector<transport::inbound> received;
    const auto poll_server = [&] {
        const int timeout_ms = server.prepare_wait(5ms);
        server.collect(server.wait_for_input(timeout_ms), received);
    };
    const auto live_before = heap_trimmer::live_heap_bytes();
    const long rss_before = rss_anon_kb();

    zmq::context_t peers_context(1);
    // Every tenth peer stays: its blocks lie between those of the peers that leave, as a
    // server's lasting connections (other servers, clients that stay) lie between those of
    // clients passing through, so no trim of the heap's top alone can give the others back.
    constexpr int peers = 120;
    std::vector<zmq::socket_t> staying, leaving;
    for (int i = 0; i < peers; ++i) {
        auto& list = i % 10 == 0 ? staying : leaving;
        auto& peer = list.emplace_back(peers_context, zmq::socket_type::dealer);
        peer.set(zmq::sockopt::linger, 0);
        peer.set(zmq::sockopt::routing_id, "p" + std::to_string(i));
        peer.connect(server.bound_router_endpoint());
        peer.send(zmq::str_buffer("hello"), zmq::send_flags::none);
    }
    WAIT_FOR("every peer's hello reached the server", (poll_server(), received.size() >= peers), 30s);

    heap_trimmer trimmer;
    const auto t0 = heap_trimmer::clock::now();
    CHECK_FALSE(trimmer.poll(t0));  // the peak, with every connection open
    const auto live_peak = heap_trimmer::live_heap_bytes();
    const long rss_peak = rss_anon_kb();
    REQUIRE(live_peak > live_before);

    leaving.clear();
    // The ROUTER frees a closed connection's pipes when it is next used: the server polls.
    const auto live_left = live_before + (live_peak - live_before) / 5;
    WAIT_FOR("the server let go of the closed connections",
             (poll_server(), heap_trimmer::live_heap_bytes() <= live_left), 30s);
    const long rss_retained = rss_anon_kb();
    INFO("RssAnon " << rss_before << " KiB before, " << rss_peak << " with " << peers << " connections, "
                    << rss_retained << " after " << peers - staying.size() << " closed; live heap "
                    << live_before / 1024 << " KiB before, " << live_peak / 1024 << " at the peak, "
                    << heap_trimmer::live_heap_bytes() / 1024 << " after");

    const auto report = trimmer.poll(t0 + 10s);
    REQUIRE(report);
    CHECK(report->released);
    const long rss_trimmed = rss_anon_kb();
    INFO("RssAnon " << rss_trimmed << " KiB after the trim, which took " << report->took.count() << " us");
    // What the connections that closed held resident went back (the staying tenth keeps theirs).
    CHECK(rss_trimmed - rss_before <= (rss_peak - rss_before) / 2);
}
