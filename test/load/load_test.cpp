// No false failures: 3 servers and 20 clients, heartbeat 100 ms, under a saturating message
// load for 20 s, see zero on_down.
#include <atomic>
#include <thread>

#include "integration/cluster_fixture.hpp"
#include "workload.hpp"

using namespace zpartisan;
using namespace zpartisan::test;
using namespace std::chrono_literals;

TEST_CASE("a healthy cluster under saturating load has no false failures", "[load]") {
    std::atomic<int> downs{0};
    std::atomic<std::uint64_t> handled{0};
    std::vector<std::unique_ptr<Node>> servers, clients;
    for (int i = 1; i <= 3; ++i) servers.push_back(make_node("s" + std::to_string(i), role::server));
    for (int i = 1; i <= 20; ++i) clients.push_back(make_node("c" + std::to_string(i), role::client));
    for (int i = 1; i < 3; ++i) REQUIRE(servers[i]->sync_join(servers[0]->router_endpoint(), 10s).ok());
    for (int i = 0; i < 20; ++i) REQUIRE(clients[i]->sync_join(servers[i % 3]->router_endpoint(), 10s).ok());
    WAIT_FOR("all 23 converged", [&] {
        for (auto* group : {&servers, &clients})
            for (auto& n : *group)
                if (n->members().size() != 23) return false;
        return true;
    }());
    for (auto* group : {&servers, &clients})
        for (auto& n : *group) {
            n->register_handler("sink", [&](const inbound_message&) { ++handled; });
            n->on_down("*", [&](const std::string&) { ++downs; });
        }
    WAIT_FOR("routes everywhere", clients[0]->forward_message("c20", "sink", "x") == send_status::ok);
    WAIT_FOR("the probe arrived", handled.load() == 1);
    handled = 0;

    // Four senders push batches as fast as the queues take them, client to client across
    // servers; each batch drains before the next, so the load saturates the CPUs for 20 s
    // while every queue stays bounded.
    // A small workload (a sanitizer build, test/workload.hpp) saturates for 5 s instead.
    const auto load_for = small_workload() ? 5s : 20s;
    std::atomic<std::uint64_t> sent{0}, congested{0};
    const auto until = std::chrono::steady_clock::now() + load_for;
    int batches = 0;
    while (std::chrono::steady_clock::now() < until && downs.load() == 0) {
        std::vector<std::thread> senders;
        for (int t = 0; t < 4; ++t) {
            senders.emplace_back([&, t] {
                const std::string payload(256, 'l');
                for (std::uint64_t i = 0; i < 5000; ++i) {
                    auto& from = *clients[(t * 5 + i) % 20];
                    const auto to = "c" + std::to_string(1 + (t * 7 + i * 3) % 20);
                    send_status status;
                    while ((status = from.forward_message(to, "sink", payload)) == send_status::congested) {
                        ++congested;
                        std::this_thread::yield();
                    }
                    if (status == send_status::ok) ++sent;
                }
            });
        }
        for (auto& t : senders) t.join();
        if (!eventually([&] { return handled.load() == sent.load(); }, 30s)) {
            std::printf("sent %llu handled %llu\n", static_cast<unsigned long long>(sent.load()),
                        static_cast<unsigned long long>(handled.load()));
            for (auto* n : {servers[0].get(), clients[0].get(), clients[1].get()})
                for (const auto& [key, value] : n->status().counters)
                    std::printf("  %s %s=%llu\n", n->name().c_str(), key.c_str(),
                                static_cast<unsigned long long>(value));
            FAIL("the queues did not drain");
        }
        ++batches;
    }
    std::printf("load: %d batches, %llu messages handled in %lld s (%llu congested retries), %d on_down\n", batches,
                static_cast<unsigned long long>(handled.load()), static_cast<long long>(load_for.count()),
                static_cast<unsigned long long>(congested.load()), downs.load());
    CHECK(downs.load() == 0);
    CHECK(sent.load() > (small_workload() ? 1000u : 10000u));
}
