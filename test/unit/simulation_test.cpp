// 200 pure nodes over the simulated network: membership converges under loss, duplication,
// reordering, slow joiners and partitions. Set ZPARTISAN_SIM_SEED to replay one seed.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <iostream>

#include "sim/sim_network.hpp"
#include "workload.hpp"

using namespace zpartisan;

namespace {

// A small workload (a sanitizer build, test/workload.hpp) runs the first seed only.
std::vector<std::uint64_t> seeds_to_run(std::vector<std::uint64_t> defaults) {
    if (const char* replay = std::getenv("ZPARTISAN_SIM_SEED")) return {std::strtoull(replay, nullptr, 10)};
    if (test::small_workload()) defaults.resize(1);
    return defaults;
}

struct wave {
    std::vector<std::string> servers, clients, all;
};

// servers_count servers join s1; every client joins a random server, or a random client (and
// is referred), all at once: a join wave.
wave join_wave(sim::sim_network& net, int servers_count, int clients_count, std::uint64_t seed) {
    wave w;
    std::mt19937_64 pick(seed ^ 0x9e3779b97f4a7c15ull);
    for (int i = 1; i <= servers_count; ++i) {
        w.servers.push_back("s" + std::to_string(i));
        net.add(w.servers.back(), role::server);
    }
    for (int i = 1; i <= clients_count; ++i) {
        w.clients.push_back("c" + std::to_string(i));
        net.add(w.clients.back(), role::client);
    }
    for (std::size_t i = 1; i < w.servers.size(); ++i) net.node(w.servers[i]).join(net.router_of("s1"), 0);
    net.run_rounds(5);  // the servers' mesh starts forming before the clients arrive
    // The first ten clients attach first, so the later ones can be referred by them.
    for (std::size_t i = 0; i < 10 && i < w.clients.size(); ++i)
        net.node(w.clients[i]).join(net.router_of(w.servers[pick() % w.servers.size()]), net.now_ms());
    net.run_rounds(5);
    for (std::size_t i = 10; i < w.clients.size(); ++i) {
        const bool via_client = pick() % 4 == 0;
        const auto& target = via_client ? w.clients[pick() % 10] : w.servers[pick() % w.servers.size()];
        net.node(w.clients[i]).join(net.router_of(target), net.now_ms());
    }
    w.all = w.servers;
    w.all.insert(w.all.end(), w.clients.begin(), w.clients.end());
    std::sort(w.all.begin(), w.all.end());
    return w;
}

}  // namespace

TEST_CASE("200 nodes converge with no faults: the rounds it takes are printed", "[sim]") {
    for (const auto seed : seeds_to_run({11, 12})) {
        CAPTURE(seed);
        sim::sim_network net(seed);
        const auto w = join_wave(net, 10, 190, seed);
        const int rounds = net.run_until_converged(w.all, 1000);
        if (rounds < 0)
            for (const auto& name : w.all)
                if (net.node(name).membership().members().size() != w.all.size())
                    std::cout << name << " sees " << net.node(name).membership().members().size() << " settled "
                              << net.node(name).settled() << "\n";
        std::cout << "sim seed " << seed << ": 200 nodes (10 servers) converged " << rounds << " rounds ("
                  << rounds * sim::sim_network::round_ms << " ms logical) after the client wave, "
                  << net.stats().messages << " messages\n";
        REQUIRE(rounds >= 0);
        for (const auto& name : w.all) {
            INFO(name);
            CHECK(net.node(name).settled());
        }
    }
}

TEST_CASE("500 nodes converge in a few rounds, every replica sharing each spec's one copy", "[sim][scale]") {
    const std::uint64_t seed = 31;
    sim::sim_network net(seed);
    // A slow build checks the same sharing on 200 nodes (the 200-node tests' size).
    const int clients = test::small_workload() ? 175 : 475;
    const auto w = join_wave(net, 25, clients, seed);
    const int rounds = net.run_until_converged(w.all, 200);
    std::cout << "sim seed " << seed << ": " << w.all.size() << " nodes (25 servers) converged " << rounds
              << " rounds after the wave\n";
    REQUIRE(rounds >= 0);
    // 200 nodes take about 6 rounds; rounds grow no faster than log N, so 500 stay near it.
    CHECK(rounds <= 20);
    net.run_rounds(30);  // names agree already; the last spec updates (homes) settle too
    // Sharing: replicas hold the copy the member's spec arrived in, not one of their own. A
    // replica that learned it through another path (a copy made from a hello) holds an equal one.
    const auto* first = net.node("s1").membership().spec_of("c150");
    REQUIRE(first != nullptr);
    std::size_t other_copies = 0;
    for (const auto& name : w.all) {
        INFO(name);
        const auto* held = net.node(name).membership().spec_of("c150");
        REQUIRE(held != nullptr);
        CHECK(*held == *first);
        if (held != first) ++other_copies;
    }
    CHECK(other_copies <= w.all.size() / 10);
}

TEST_CASE("200 nodes converge after 20% loss, duplication, reordering and slow joiners stop", "[sim]") {
    for (const auto seed : seeds_to_run({21, 22, 23})) {
        CAPTURE(seed);
        sim::sim_network net(seed, sim::faults{0.2, 0.05, 5, 20});
        const auto w = join_wave(net, 10, 190, seed);
        net.run_rounds(300);
        net.set_faults({});
        // Bound: anti-entropy runs every 10 rounds per node, handshakes retry every 5.
        const int rounds = net.run_until_converged(w.all, 600);
        INFO("replay with ZPARTISAN_SIM_SEED=" << seed);
        if (rounds < 0)
            for (const auto& name : w.all)
                if (net.node(name).membership().members().size() != w.all.size() || !net.node(name).settled())
                    std::cout << name << " sees " << net.node(name).membership().members().size() << " settled "
                              << net.node(name).settled() << " running " << net.node(name).running() << "\n";
        REQUIRE(rounds >= 0);
        // A dial whose hellos the faults ate waits out its backoff (at most
        // handshake_retry_max_ms, 5 s: 500 rounds) before it says hello again.
        auto all_settled = [&] {
            return std::all_of(w.all.begin(), w.all.end(), [&](const auto& name) { return net.node(name).settled(); });
        };
        for (int round = 0; round < 500 && !all_settled(); ++round) net.run_rounds(1);
        for (const auto& name : w.all) {
            INFO(name);
            CHECK(net.node(name).settled());
        }
    }
}

TEST_CASE("a partition heals: both sides converge on the union, removals included", "[sim]") {
    for (const auto seed : seeds_to_run({31})) {
        CAPTURE(seed);
        sim::sim_network net(seed);
        const auto w = join_wave(net, 4, 36, seed);
        REQUIRE(net.run_until_converged(w.all, 500) >= 0);

        std::set<std::string> side_a{"s1", "s2"}, side_b{"s3", "s4"};
        for (const auto& c : w.clients) (net.node(c).self().home_server <= "s2" ? side_a : side_b).insert(c);
        net.partition(side_a, side_b);
        // Each side changes membership on its own: a removal on one, a new node on the other.
        const std::string victim = *std::find_if(side_b.begin(), side_b.end(), [](auto& n) { return n[0] == 'c'; });
        REQUIRE(net.node("s1").remove_member(victim, net.now_ms()));
        net.add("late", role::client);
        net.node("late").join(net.router_of("s3"), net.now_ms());
        net.partition(side_a, {"late"});
        net.run_rounds(200);
        net.heal();

        auto expected = w.all;
        expected.erase(std::find(expected.begin(), expected.end(), victim));
        expected.push_back("late");
        std::sort(expected.begin(), expected.end());
        const int rounds = net.run_until_converged(expected, 600);
        INFO("replay with ZPARTISAN_SIM_SEED=" << seed);
        REQUIRE(rounds >= 0);
        CHECK_FALSE(net.node(victim).running());
    }
}
