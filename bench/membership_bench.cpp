#include "membership_bench.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <memory>
#include <random>
#include <thread>

#include "sim/sim_network.hpp"
#include "wire/codec.hpp"
#include "zpartisan/node.hpp"

namespace zpartisan::bench {

namespace {

using clock_type = std::chrono::steady_clock;

int servers_for(int nodes) { return std::max(3, nodes / 20); }  // 200 nodes: 10 servers

double elapsed_ms(clock_type::time_point since) {
    return std::chrono::duration<double, std::milli>(clock_type::now() - since).count();
}

std::uint64_t counter(const node_status& status, const std::string& name) {
    auto it = status.counters.find(name);
    return it == status.counters.end() ? 0 : it->second;
}

// CPU time this process has used, all threads, user and system.
double process_cpu_ms() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto ms = [](const timeval& t) { return t.tv_sec * 1000.0 + t.tv_usec / 1000.0; };
    return ms(usage.ru_utime) + ms(usage.ru_stime);
}

}  // namespace

void run_real_membership(const std::vector<int>& node_counts, const reporter& out) {
    using namespace std::chrono_literals;
    constexpr auto idle_settle = 2s;
    constexpr auto idle_seconds = 3s;  // three heartbeat intervals
    for (const int total : node_counts) {
        const int servers = servers_for(total);
        std::vector<std::unique_ptr<Node>> nodes;
        std::vector<std::string> names;
        auto make = [&](const std::string& name, role r) {
            config cfg;
            cfg.name = name;
            cfg.role = r;
            cfg.cluster_name = "bench";
            cfg.gossip_interval_ms = 500;
            nodes.push_back(std::make_unique<Node>(cfg));
            names.push_back(name);
        };
        for (int i = 1; i <= servers; ++i) make("s" + std::to_string(i), role::server);
        for (int i = 1; i <= total - servers; ++i) make("c" + std::to_string(i), role::client);
        std::sort(names.begin(), names.end());

        for (int i = 1; i < servers; ++i) (void)nodes[i]->sync_join(nodes[0]->router_endpoint(), 30s);
        std::mt19937 pick(7);
        for (int i = servers; i < total; ++i) (void)nodes[i]->join(nodes[pick() % servers]->router_endpoint());
        const auto last_join = clock_type::now();

        bool converged = false;
        const auto deadline = last_join + 120s;
        while (!converged && clock_type::now() < deadline) {
            converged = std::all_of(nodes.begin(), nodes.end(), [&](auto& n) { return n->members() == names; });
            if (!converged) std::this_thread::sleep_for(5ms);
        }
        const double converge_ms = elapsed_ms(last_join);
        std::uint64_t bytes = 0;
        for (auto& n : nodes) {
            const auto status = n->status();
            bytes += counter(status, "bytes_sent") + counter(status, "bytes_published");
        }
        // What the converged cluster costs at rest (heartbeats, beacons, gossip, ticks): the
        // figure that says whether a node count is comfortable, not just reachable.
        std::this_thread::sleep_for(idle_settle);  // the last repairs after members() agree
        const auto idle_from = clock_type::now();
        const double cpu_before = process_cpu_ms();
        std::this_thread::sleep_for(idle_seconds);
        const double idle_cpu_share = (process_cpu_ms() - cpu_before) / elapsed_ms(idle_from);
        // Each join is a membership change seen by every node.
        out.figure({{"bench", "membership_real"},
                    {"nodes", total},
                    {"servers", servers},
                    {"converged", converged},
                    {"ms_from_last_join_to_convergence", std::round(converge_ms * 10) / 10},
                    {"bytes_sent_total", bytes},
                    {"bytes_per_node_per_change",
                     bytes / static_cast<std::uint64_t>(total) / static_cast<std::uint64_t>(total)},
                    {"idle_cpu_percent_of_one_core", std::round(idle_cpu_share * 1000) / 10}});
        for (auto& n : nodes) n->stop();
    }
}

namespace {

// The peak resident set of this process so far (VmHWM), in MiB; 0 where /proc has none.
double peak_resident_mib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // in kB
    return 0;
}

nlohmann::json simulate_once(int total, bool measure_bytes) {
    const auto started = clock_type::now();
    const int servers = servers_for(total);
    sim::sim_network net(1);
    if (measure_bytes) net.set_sizer([](const core::message& m) { return wire::encode(m).size(); });
    std::vector<std::string> names;
    for (int i = 1; i <= servers; ++i) {
        names.push_back("s" + std::to_string(i));
        net.add(names.back(), role::server);
    }
    for (int i = 1; i < servers; ++i) net.node(names[static_cast<std::size_t>(i)]).join(net.router_of("s1"), 0);
    net.run_rounds(10);
    const auto mesh_messages = net.stats().messages;
    const auto mesh_bytes = net.stats().bytes;
    std::mt19937 pick(7);
    for (int i = 1; i <= total - servers; ++i) {
        names.push_back("c" + std::to_string(i));
        net.add(names.back(), role::client)
            .join(net.router_of("s" + std::to_string(1 + pick() % servers)), net.now_ms());
    }
    std::sort(names.begin(), names.end());
    const auto wave = clock_type::now();
    const int rounds = net.run_until_converged(names, 2000);
    // Each client's join is a membership change every node must learn.
    const double per_node_per_change = static_cast<double>(total) * (total - servers);
    nlohmann::json row{{"bench", "membership_sim"},
                       {"nodes", total},
                       {"servers", servers},
                       {"rounds_to_converge", rounds},
                       {"logical_ms", rounds * static_cast<int>(sim::sim_network::round_ms)},
                       {"messages", net.stats().messages - mesh_messages},
                       {"messages_per_node_per_change",
                        std::round((net.stats().messages - mesh_messages) / per_node_per_change * 100) / 100},
                       {"wave_wall_s", std::round(elapsed_ms(wave) / 100) / 10},
                       {"wall_s", std::round(elapsed_ms(started) / 100) / 10},
                       {"peak_rss_mib", std::round(peak_resident_mib())}};
    if (measure_bytes)
        row["bytes_per_node_per_change"] = std::round((net.stats().bytes - mesh_bytes) / per_node_per_change * 10) / 10;
    for (const auto& [type, count] : net.stats().by_type) row[std::string("messages_") + core::name_of(type)] = count;
    return row;
}

}  // namespace

void run_simulated_membership(const std::vector<int>& node_counts, bool measure_bytes, const reporter& out) {
    for (const int total : node_counts) {
        // Each size in a child process of its own, so its peak memory is its own and not the
        // largest of the sizes run before it; the child hands its row back through a pipe.
        int channel[2];
        if (pipe(channel) != 0) throw std::runtime_error("pipe failed");
        std::fflush(nullptr);
        const pid_t child = fork();
        if (child < 0) throw std::runtime_error("fork failed");
        if (child == 0) {
            close(channel[0]);
            const auto text = simulate_once(total, measure_bytes).dump();
            const bool written = write(channel[1], text.data(), text.size()) == static_cast<ssize_t>(text.size());
            _exit(written ? 0 : 1);
        }
        close(channel[1]);
        std::string text;
        char buffer[4096];
        for (ssize_t got; (got = read(channel[0], buffer, sizeof buffer)) > 0;)
            text.append(buffer, static_cast<std::size_t>(got));
        close(channel[0]);
        int status = 0;
        waitpid(child, &status, 0);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && !text.empty()) {
            out.figure(nlohmann::json::parse(text));
        } else {
            // Out of memory under a ulimit, or killed: say so instead of a row.
            out.figure({{"bench", "membership_sim"},
                        {"nodes", total},
                        {"failed", WIFSIGNALED(status) ? std::string("signal ") + std::to_string(WTERMSIG(status))
                                                       : "exit " + std::to_string(WEXITSTATUS(status))}});
        }
    }
}

}  // namespace zpartisan::bench
