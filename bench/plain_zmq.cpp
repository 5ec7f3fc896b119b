#include "plain_zmq.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <zmq.hpp>

namespace zpartisan::bench {

namespace {

using clock_type = std::chrono::steady_clock;

// ROUTER_MANDATORY refuses a peer whose connection is still being set up (its own context
// may not have finished the handshake): wait for it rather than drop, up to a bound.
void send_routed(zmq::socket_t& router, const std::string& id, zmq::message_t& body) {
    const auto deadline = clock_type::now() + std::chrono::seconds(10);
    for (;;) {
        try {
            (void)router.send(zmq::buffer(id), zmq::send_flags::sndmore);
            (void)router.send(body, zmq::send_flags::none);
            return;
        } catch (const zmq::error_t& e) {
            if (e.num() != EHOSTUNREACH || clock_type::now() > deadline) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
}

// One relay: a ROUTER whose upstream peer is "U" (and, for the last relay, B is "D"), and a
// DEALER to the next relay's ROUTER unless it is the last.
void relay_loop(zmq::context_t& context, zmq::socket_t router, const std::string& next, std::atomic<bool>& stop) {
    std::unique_ptr<zmq::socket_t> down;
    if (!next.empty()) {
        down = std::make_unique<zmq::socket_t>(context, zmq::socket_type::dealer);
        down->set(zmq::sockopt::linger, 0);
        down->set(zmq::sockopt::routing_id, "U");
        down->set(zmq::sockopt::sndhwm, 100000);
        down->set(zmq::sockopt::rcvhwm, 100000);
        down->connect(next);
    }
    std::vector<zmq::pollitem_t> items{{router.handle(), 0, ZMQ_POLLIN, 0}};
    if (down) items.push_back({down->handle(), 0, ZMQ_POLLIN, 0});
    while (!stop) {
        zmq::poll(items.data(), items.size(), std::chrono::milliseconds(50));
        if (items[0].revents & ZMQ_POLLIN) {
            for (int n = 0; n < 512; ++n) {
                zmq::message_t id, body;
                if (!router.recv(id, zmq::recv_flags::dontwait)) break;
                (void)router.recv(body);
                const bool from_upstream = id.to_string_view() == "U";
                if (from_upstream && down) {
                    (void)down->send(body, zmq::send_flags::none);
                } else {
                    send_routed(router, from_upstream ? "D" : "U", body);
                }
            }
        }
        if (down && (items[1].revents & ZMQ_POLLIN)) {
            for (int n = 0; n < 512; ++n) {
                zmq::message_t body;
                if (!down->recv(body, zmq::recv_flags::dontwait)) break;
                send_routed(router, "U", body);
            }
        }
    }
}

// Every party has its own context, hence its own I/O thread, as separate processes (and
// zpartisan's nodes, one context each) do: a shared context would let one I/O thread carry
// both ends of each TCP hop, which no deployment of the same hops gets.
struct chain {
    zmq::context_t context{1};    // A's
    zmq::context_t b_context{1};  // B's
    std::vector<std::unique_ptr<zmq::context_t>> relay_contexts;
    std::atomic<bool> stop{false};
    std::vector<std::thread> relays;
    std::string first_endpoint, last_endpoint;
    std::size_t relay_count;

    explicit chain(std::size_t count) : relay_count(count) {
        // Bound here, on OS-chosen loopback ports, then handed to their threads: tcp like
        // zpartisan, so every hop crosses the loopback stack.
        std::vector<zmq::socket_t> routers;
        std::vector<std::string> endpoints;
        for (std::size_t i = 0; i < count; ++i) {
            relay_contexts.push_back(std::make_unique<zmq::context_t>(1));
            zmq::socket_t router(*relay_contexts.back(), zmq::socket_type::router);
            router.set(zmq::sockopt::linger, 0);
            router.set(zmq::sockopt::sndhwm, 100000);
            router.set(zmq::sockopt::rcvhwm, 100000);
            router.set(zmq::sockopt::router_mandatory, 1);  // a full peer blocks, never drops
            router.bind("tcp://127.0.0.1:*");
            endpoints.push_back(router.get(zmq::sockopt::last_endpoint));
            routers.push_back(std::move(router));
        }
        for (std::size_t i = 0; i < count; ++i)
            relays.emplace_back(relay_loop, std::ref(*relay_contexts[i]), std::move(routers[i]),
                                i + 1 < count ? endpoints[i + 1] : std::string(), std::ref(stop));
        if (count) {
            first_endpoint = endpoints.front();
            last_endpoint = endpoints.back();
        }
    }
    ~chain() {
        stop = true;
        for (auto& t : relays) t.join();
    }
};

zmq::socket_t endpoint_socket(zmq::context_t& context, const char* id) {
    zmq::socket_t socket(context, zmq::socket_type::dealer);
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::routing_id, id);
    socket.set(zmq::sockopt::sndhwm, 100000);
    socket.set(zmq::sockopt::rcvhwm, 100000);
    socket.set(zmq::sockopt::rcvtimeo, 10000);  // a lost message ends the run instead of hanging it
    return socket;
}

}  // namespace

latency percentiles(std::vector<double> samples_us) {
    if (samples_us.empty()) return {};
    std::sort(samples_us.begin(), samples_us.end());
    return {samples_us[samples_us.size() / 2],
            samples_us[std::min(samples_us.size() - 1, samples_us.size() * 99 / 100)]};
}

double plain_zmq_throughput(std::size_t relays, std::size_t payload_bytes, std::size_t messages) {
    chain c(relays);
    zmq::socket_t a = endpoint_socket(c.context, "U");
    std::unique_ptr<zmq::socket_t> b_router;  // no relay: B is the ROUTER itself
    zmq::socket_t b = endpoint_socket(c.b_context, "D");
    if (relays == 0) {
        b_router = std::make_unique<zmq::socket_t>(c.b_context, zmq::socket_type::router);
        b_router->set(zmq::sockopt::rcvhwm, 100000);
        b_router->set(zmq::sockopt::rcvtimeo, 10000);
        b_router->bind("tcp://127.0.0.1:*");
        a.connect(b_router->get(zmq::sockopt::last_endpoint));
    } else {
        a.connect(c.first_endpoint);
        b.connect(c.last_endpoint);
    }
    if (!b_router) {
        // B's hello registers it at the last relay and travels up to A: the chain is ready.
        (void)b.send(zmq::buffer(std::string("hello")), zmq::send_flags::none);
        zmq::message_t hello;
        (void)a.recv(hello);
    }
    // Let the connections form (one message through, answered).
    std::atomic<std::size_t> received{0};
    std::thread receiver([&] {
        zmq::message_t part;
        for (std::size_t i = 0; i < messages + 1; ++i) {
            const bool got = b_router ? (b_router->recv(part) && b_router->recv(part)) : b.recv(part).has_value();
            if (!got) break;
            received = i + 1;
        }
    });
    (void)a.send(zmq::buffer(std::string(payload_bytes, 'w')), zmq::send_flags::none);
    while (received.load() < 1) std::this_thread::yield();
    const std::string payload(payload_bytes, 'x');
    const auto started = clock_type::now();
    for (std::size_t i = 0; i < messages; ++i) (void)a.send(zmq::buffer(payload), zmq::send_flags::none);
    receiver.join();
    const double seconds = std::chrono::duration<double>(clock_type::now() - started).count();
    return static_cast<double>(received.load() - 1) / seconds;
}

std::vector<double> plain_zmq_round_trip(std::size_t relays, std::size_t payload_bytes, std::size_t round_trips,
                                         bool spin) {
    chain c(relays);
    zmq::socket_t a = endpoint_socket(c.context, "U");
    zmq::socket_t b = endpoint_socket(c.b_context, "D");
    std::unique_ptr<zmq::socket_t> b_router;
    if (relays == 0) {
        b_router = std::make_unique<zmq::socket_t>(c.b_context, zmq::socket_type::router);
        b_router->bind("tcp://127.0.0.1:*");
        a.connect(b_router->get(zmq::sockopt::last_endpoint));
    } else {
        a.connect(c.first_endpoint);
        b.connect(c.last_endpoint);
    }
    a.set(zmq::sockopt::rcvtimeo, 2000);  // a lost reply costs what it costs our side: 2 s
    zmq::message_t reply;
    if (!b_router) {
        (void)b.send(zmq::buffer(std::string("hello")), zmq::send_flags::none);
        (void)a.recv(reply);  // B's hello travelled up to A: the chain is ready
    }
    std::atomic<bool> done{false};
    std::thread echo([&] {
        zmq::pollitem_t item{b_router ? b_router->handle() : b.handle(), 0, ZMQ_POLLIN, 0};
        while (!done) {
            zmq::poll(&item, 1, std::chrono::milliseconds(20));
            if (!(item.revents & ZMQ_POLLIN)) continue;
            if (b_router) {
                zmq::message_t id, body;
                (void)b_router->recv(id);
                (void)b_router->recv(body);
                (void)b_router->send(id, zmq::send_flags::sndmore);
                (void)b_router->send(body, zmq::send_flags::none);
            } else {
                zmq::message_t body;
                (void)b.recv(body);
                (void)b.send(body, zmq::send_flags::none);
            }
        }
    });
    const std::string payload(payload_bytes, 'x');
    std::vector<double> samples;
    for (std::size_t i = 0; i < round_trips + 200; ++i) {
        const auto started = clock_type::now();
        (void)a.send(zmq::buffer(payload), zmq::send_flags::none);
        if (spin) {
            // Given up after 2 s, as our side gives up on a pong.
            const auto deadline = started + std::chrono::seconds(2);
            while (!a.recv(reply, zmq::recv_flags::dontwait) && clock_type::now() < deadline) std::this_thread::yield();
        } else {
            (void)a.recv(reply);
        }
        if (i >= 200) samples.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - started).count());
    }
    done = true;
    echo.join();
    return samples;
}

}  // namespace zpartisan::bench
