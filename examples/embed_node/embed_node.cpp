// Embedding zpartisan::Node in a service: a server and a client in one program, watching
// each other with on_up/on_down and sending typed work items. Exits 0 when it all happened.
// Builds inside this repository and, on its own, against an installed zpartisan
// (CMakeLists.txt here, or pkg-config: README.md, Install).
#include <atomic>
#include <chrono>
#include <iostream>
#include <string>
#include <thread>

#include <zpartisan/node.hpp>
#include <zpartisan/typed.hpp>
#include <zpartisan/version.hpp>

using namespace std::chrono_literals;

// A typed payload: any type cereal can serialize (zpartisan/typed.hpp).
struct order {
    std::string item;
    int quantity = 0;

    template <class Archive>
    void serialize(Archive& archive) {
        archive(item, quantity);
    }
};

int main() {
    std::cout << "embed_node: zpartisan " << zpartisan::version() << "\n";
    std::atomic<int> ups{0}, work_done{0};

    zpartisan::config server_cfg;
    server_cfg.name = "orders-server";
    server_cfg.cluster_name = "shop";
    zpartisan::Node server(server_cfg);

    // A service registers its handlers before joining, then watches its peers.
    server.register_handler("orders", [&](const zpartisan::inbound_message& m) {
        const auto received = zpartisan::decode_payload<order>(m.payload);
        if (!received) return;  // not an order: dropped
        std::cout << "orders-server: " << received->quantity << " x " << received->item << " from " << m.from << "\n";
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
        const auto payload = zpartisan::encode_payload(order{"item-" + std::to_string(i), i});
        while (client.forward_message("orders-server", "orders", payload, options) != zpartisan::send_status::ok)
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
