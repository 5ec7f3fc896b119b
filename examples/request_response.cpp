// Request/response with call(): the answer comes back on a one-off reference (partisan's
// gensym). A price service on a server answers a client. Exits 0 when the answers are right.
#include <chrono>
#include <iostream>

#include "zpartisan/node.hpp"

using namespace std::chrono_literals;

int main() {
    zpartisan::config server_cfg;
    server_cfg.name = "pricing";
    server_cfg.cluster_name = "rpc";
    zpartisan::Node pricing(server_cfg);
    pricing.register_handler("price", [&pricing](const zpartisan::inbound_message& request) {
        const auto answer = request.payload == "apple" ? "1.20" : "unknown item";
        (void)pricing.reply(request, answer);
    });

    zpartisan::config client_cfg;
    client_cfg.name = "shopper";
    client_cfg.role = zpartisan::role::client;
    client_cfg.cluster_name = "rpc";
    zpartisan::Node shopper(client_cfg);
    if (!shopper.sync_join(pricing.router_endpoint(), 15s).ok()) return 1;

    const auto apple = shopper.call("pricing", "price", "apple", 2s);
    const auto pear = shopper.call("pricing", "price", "pear", 2s);
    const auto nobody = shopper.call("pricing", "no-such-handler", "x", 300ms);
    std::cout << "apple: " << apple.payload << "\npear: " << pear.payload << "\n"
              << "a call to a missing handler answered: " << std::boolalpha << nobody.answered << "\n";
    return apple.ok() && apple.payload == "1.20" && pear.payload == "unknown item" && !nobody.answered ? 0 : 1;
}
