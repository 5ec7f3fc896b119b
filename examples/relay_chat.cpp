// A chat between two clients attached to different servers: every line travels
// client -> its server -> the other server -> client. Exits 0 once both saw the other's lines.
#include <atomic>
#include <chrono>
#include <iostream>
#include <thread>

#include "zpartisan/node.hpp"

using namespace std::chrono_literals;

namespace {
zpartisan::config make(const std::string& name, zpartisan::role role) {
    zpartisan::config cfg;
    cfg.name = name;
    cfg.role = role;
    cfg.cluster_name = "chat";
    return cfg;
}
}  // namespace

int main() {
    std::atomic<int> alice_heard{0}, bob_heard{0};
    zpartisan::Node east(make("east", zpartisan::role::server));
    zpartisan::Node west(make("west", zpartisan::role::server));
    zpartisan::Node alice(make("alice", zpartisan::role::client));
    zpartisan::Node bob(make("bob", zpartisan::role::client));
    alice.register_handler("chat", [&](const zpartisan::inbound_message& m) {
        std::cout << "alice sees " << m.from << ": " << m.payload << "\n";
        ++alice_heard;
    });
    bob.register_handler("chat", [&](const zpartisan::inbound_message& m) {
        std::cout << "bob sees " << m.from << ": " << m.payload << "\n";
        ++bob_heard;
    });
    if (!west.sync_join(east.router_endpoint(), 5s).ok() || !alice.sync_join(east.router_endpoint(), 15s).ok() ||
        !bob.sync_join(west.router_endpoint(), 15s).ok())
        return 1;

    auto say = [](zpartisan::Node& from, const std::string& to, const std::string& line) {
        const auto deadline = std::chrono::steady_clock::now() + 15s;
        while (from.forward_message(to, "chat", line) != zpartisan::send_status::ok &&
               std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(10ms);  // until the route to the other client is known
    };
    say(alice, "bob", "hi bob, this went through east and west");
    say(bob, "alice", "hi alice, and this came back the same way");
    say(alice, "bob", "bye");

    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while ((bob_heard < 2 || alice_heard < 1) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    return bob_heard == 2 && alice_heard == 1 ? 0 : 1;
}
