// Embedding zpartisan::Node in a service: a server and a client in one program, watching
// each other with on_up/on_down and counting work items. Exits 0 when it all happened.
#include <atomic>
#include <chrono>
#include <iostream>
#include <thread>

#include "zpartisan/node.hpp"

using namespace std::chrono_literals;

int main() {
    std::atomic<int> ups{0}, work_done{0};

    zpartisan::config server_cfg;
    server_cfg.name = "orders-server";
    server_cfg.cluster_name = "shop";
    zpartisan::Node server(server_cfg);

    // A service registers its handlers before joining, then watches its peers.
    server.register_handler("orders", [&](const zpartisan::inbound_message& m) {
        std::cout << "orders-server: order '" << m.payload << "' from " << m.from << "\n";
        ++work_done;
    });
    server.on_up("*", [&](const std::string& who) {
        std::cout << "orders-server: " << who << " is up\n";
        ++ups;
    });

    zpartisan::config client_cfg;
    client_cfg.name = "checkout";
    client_cfg.role = zpartisan::role::client;
    client_cfg.cluster_name = "shop";
    zpartisan::Node client(client_cfg);
    const auto joined = client.sync_join(server.router_endpoint(), 15s);
    if (!joined.ok()) {
        std::cerr << "join failed: " << joined.reason << "\n";
        return 1;
    }
    for (int i = 1; i <= 3; ++i) {
        zpartisan::message_options options;
        options.ack = true;  // at-least-once, handled once
        while (client.forward_message("orders-server", "orders", "order-" + std::to_string(i), options) !=
               zpartisan::send_status::ok)
            std::this_thread::sleep_for(10ms);
    }
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while ((work_done < 3 || ups < 1) && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
    std::cout << "members: ";
    for (const auto& name : client.members()) std::cout << name << " ";
    std::cout << "\n";
    (void)client.leave();
    return work_done == 3 && ups >= 1 ? 0 : 1;
}
