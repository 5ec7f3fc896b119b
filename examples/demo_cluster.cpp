// `make run`: a local demo cluster of 3 servers and 3 clients on 127.0.0.1, all in this
// process, printing live what each node sees until Ctrl-C. Every node is a zpartisan::Node
// with its own reactor thread and real TCP sockets, exactly as an embedding service has it.
#include <atomic>
#include <chrono>
#include <csignal>
#include <deque>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "zpartisan/node.hpp"

namespace {
std::atomic<bool> interrupted{false};
void on_signal(int) { interrupted = true; }

std::string join_names(const std::vector<std::string>& names) {
    std::ostringstream out;
    for (std::size_t i = 0; i < names.size(); ++i) out << (i ? " " : "") << names[i];
    return out.str();
}
}  // namespace

int main(int argc, char** argv) {
    using namespace std::chrono_literals;
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    spdlog::set_level(spdlog::level::warn);
    const int rounds_max = argc > 1 ? std::atoi(argv[1]) : -1;  // for scripted runs

    std::vector<std::unique_ptr<zpartisan::Node>> nodes;
    auto make = [&](const std::string& name, zpartisan::role role) {
        zpartisan::config cfg;
        cfg.name = name;
        cfg.role = role;
        cfg.cluster_name = "demo";
        cfg.gossip_interval_ms = 500;
        nodes.push_back(std::make_unique<zpartisan::Node>(cfg));
        return nodes.back().get();
    };
    auto* s1 = make("s1", zpartisan::role::server);
    auto* s2 = make("s2", zpartisan::role::server);
    auto* s3 = make("s3", zpartisan::role::server);
    std::cout << "zpartisan demo: 3 servers, 3 clients on 127.0.0.1 (Ctrl-C to stop)\n";
    std::cout << "  s2 and s3 join s1; the mesh completes itself\n";
    (void)s2->join(s1->router_endpoint());
    (void)s3->join(s1->router_endpoint());
    auto* c1 = make("c1", zpartisan::role::client);
    auto* c2 = make("c2", zpartisan::role::client);
    auto* c3 = make("c3", zpartisan::role::client);
    std::cout << "  c1 joins s1, c2 joins s2, c3 joins c1 (a client: it is referred to s1)\n\n";
    (void)c1->sync_join(s1->router_endpoint(), 5s);
    (void)c2->join(s2->router_endpoint());
    (void)c3->join(c1->router_endpoint());

    // c2 keeps a short log of what reaches it: c1 talks to it through s1 and s2 (two relays).
    std::mutex log_mutex;
    std::deque<std::string> c2_log;
    c2->register_handler("chat", [&](const zpartisan::inbound_message& m) {
        std::lock_guard lock(log_mutex);
        c2_log.push_back(m.from + " said '" + m.payload + "'");
        if (c2_log.size() > 3) c2_log.pop_front();
    });
    c3->register_handler("chat", [c3](const zpartisan::inbound_message& m) {
        (void)c3->forward_message(m.from, "chat", "c3 heard: " + m.payload);  // answers through s1 and s2
    });

    for (int round = 0; !interrupted && round != rounds_max; ++round) {
        const auto to_c2 = c1->forward_message("c2", "chat", "tick " + std::to_string(round));
        const auto to_c3 = c2->forward_message("c3", "chat", "ping " + std::to_string(round));
        std::cout << "--- t=" << round << "s ---------------------------------------------\n";
        for (auto& node : nodes) {
            const auto status = node->status();
            std::cout << "  " << status.self.name << " (" << zpartisan::to_string(status.self.role)
                      << (status.self.home_server.empty() ? "" : ", home " + status.self.home_server)
                      << (status.settled ? ", settled" : ", joining") << ") sees " << status.member_count << ": "
                      << join_names(node->members()) << "\n";
        }
        std::cout << "  messages: c1 -> c2 " << zpartisan::to_string(to_c2) << ", c2 -> c3 "
                  << zpartisan::to_string(to_c3) << "; c2's inbox:";
        {
            std::lock_guard lock(log_mutex);
            for (const auto& line : c2_log) std::cout << " [" << line << "]";
        }
        std::cout << "\n" << std::flush;
        for (int i = 0; i < 10 && !interrupted; ++i) std::this_thread::sleep_for(100ms);
    }
    std::cout << "stopping: every node leaves\n";
    for (auto& node : nodes) (void)node->leave();
    nodes.clear();
    return 0;
}
