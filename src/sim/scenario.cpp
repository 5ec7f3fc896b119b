// The nemesis's schedules: drawn from a seed, shrunk to the faults a failure needs, and told
// as a story (the run that plays them is nemesis.cpp).
#include <algorithm>
#include <random>
#include <sstream>

#include "sim/nemesis.hpp"

namespace zpartisan::sim {

namespace {

const char* name_of(fault_kind kind) {
    switch (kind) {
        case fault_kind::crash:
            return "crash";
        case fault_kind::pause:
            return "pause";
        case fault_kind::leave:
            return "leave";
        case fault_kind::remove:
            return "remove";
        case fault_kind::ghost_member:
            return "ghost_member";
        case fault_kind::cut_link:
            return "cut_link";
        case fault_kind::cut_one_way:
            return "cut_one_way";
        case fault_kind::partition:
            return "partition";
        case fault_kind::lossy_network:
            return "lossy_network";
    }
    return "?";
}

}  // namespace

scenario draw_scenario(std::uint64_t seed, int max_clients) {
    std::mt19937_64 rng(seed * 0x9e3779b97f4a7c15ULL + 1);
    auto between = [&](std::uint64_t lo, std::uint64_t hi) {
        return std::uniform_int_distribution<std::uint64_t>(lo, hi)(rng);
    };
    scenario s;
    s.seed = seed;
    s.servers = static_cast<int>(between(2, 6));
    s.clients = static_cast<int>(between(0, static_cast<std::uint64_t>(std::max(0, max_clients))));
    const std::uint64_t heartbeats[] = {100, 200, 300, 500};
    s.timing.heartbeat_interval_ms = heartbeats[between(0, 3)];
    s.timing.missed_heartbeats = static_cast<std::uint32_t>(between(2, 4));
    s.timing.gossip_interval_ms = between(1, 5) * 100;
    s.timing.handshake_retry_ms = between(50, 200);
    s.timing.ack_timeout_ms = 5000;
    s.fault_rounds = between(300, 1500);
    std::vector<std::string> names;
    for (int i = 1; i <= s.servers; ++i) names.push_back(server_name(i));
    for (int i = 1; i <= s.clients; ++i) names.push_back(client_name(i));
    const auto any = [&] { return names[between(0, names.size() - 1)]; };
    const auto any_server = [&] {
        return server_name(static_cast<int>(between(1, static_cast<std::uint64_t>(s.servers))));
    };
    const auto count = between(1, 8);
    int ghosts = 0;
    for (std::uint64_t i = 0; i < count; ++i) {
        fault f;
        f.kind = static_cast<fault_kind>(between(0, 8));
        f.at_round = between(0, s.fault_rounds - 1);
        f.rounds = between(20, s.fault_rounds / 2 + 20);
        // Half the nodes that leave or are removed stay away.
        if ((f.kind == fault_kind::leave || f.kind == fault_kind::remove) && between(0, 1) == 0) f.rounds = 0;
        f.node = any();
        switch (f.kind) {
            case fault_kind::remove:
                f.other = any_server();
                break;
            case fault_kind::ghost_member:
                f.node = "g" + std::to_string(++ghosts);
                f.other = any();
                break;
            case fault_kind::cut_link:
            case fault_kind::cut_one_way:
                f.other = any();
                break;
            case fault_kind::partition:
                f.other = any();
                f.ttl = static_cast<std::uint32_t>(between(0, 2));
                break;
            default:
                break;
        }
        if (f.node == f.other) continue;
        s.faults.push_back(std::move(f));
    }
    std::sort(s.faults.begin(), s.faults.end(), [](const fault& a, const fault& b) { return a.at_round < b.at_round; });
    return s;
}

scenario shrink(const scenario& failing, outcome& last) {
    scenario current = failing;
    last = run_scenario(current);
    if (last.ok()) return current;
    for (bool shrunk = true; shrunk;) {
        shrunk = false;
        for (std::size_t i = 0; i < current.faults.size(); ++i) {
            scenario candidate = current;
            candidate.faults.erase(candidate.faults.begin() + static_cast<std::ptrdiff_t>(i));
            auto result = run_scenario(candidate);
            if (result.ok()) continue;
            current = std::move(candidate);
            last = std::move(result);
            shrunk = true;
            break;
        }
    }
    return current;
}

std::string describe(const fault& f) {
    std::ostringstream out;
    out << "at " << f.at_round * sim_network::round_ms << " ms: " << name_of(f.kind) << " " << f.node;
    if (!f.other.empty())
        out << (f.kind == fault_kind::remove || f.kind == fault_kind::ghost_member || f.kind == fault_kind::partition
                    ? " by "
                    : " / ")
            << f.other;
    if (f.kind == fault_kind::partition) out << " ttl " << f.ttl;
    out << " for " << f.rounds * sim_network::round_ms << " ms";
    return out.str();
}

std::string describe(const scenario& s) {
    std::ostringstream out;
    out << "seed " << s.seed << ": " << s.servers << " servers, " << s.clients << " clients, heartbeat "
        << s.timing.heartbeat_interval_ms << " ms x " << s.timing.missed_heartbeats << ", gossip "
        << s.timing.gossip_interval_ms << " ms, faults for " << s.fault_rounds * sim_network::round_ms << " ms:";
    for (const auto& f : s.faults) out << "\n  " << describe(f);
    return out.str();
}

}  // namespace zpartisan::sim
