// The transport's poll steps as the reactor uses them when it lends its turn.
#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "transport/zmq_transport.hpp"
#include "wait_for.hpp"

// Inside the namespace, so this file's names do not reach the files a unity build puts beside it.
namespace zpartisan::transport {
namespace {

using namespace std::chrono_literals;

transport_options options_for(const std::string& name, role r) {
    transport_options options;
    options.name = name;
    options.node_role = r;
    options.router_bind_endpoint = "tcp://127.0.0.1:*";
    if (r == role::server) options.pub_bind_endpoint = "tcp://127.0.0.1:*";
    return options;
}

// One poll as the reactor runs it; what arrived is appended to into.
void poll_once(zmq_transport& t, std::vector<inbound>& into) {
    const int timeout_ms = t.prepare_wait(5ms);
    t.collect(t.wait_for_input(timeout_ms), into);
}

// A client transport a that dialed a server transport b, once a's hello reached b.
struct dialed_pair {
    zmq_transport a{options_for("a", role::client)};
    zmq_transport b{options_for("b", role::server)};
    std::string b_endpoint = b.bound_router_endpoint();
    core::link to_b{core::link::kind::dialed, b_endpoint};
    std::vector<inbound> at_a, at_b;

    dialed_pair() {
        a.dial(b_endpoint);
        WAIT_FOR("a reaches b", [&] {
            frame hello(std::string_view("hello"));
            if (a.send(to_b, hello) != send_status::ok) return false;
            poll_once(a, at_a);
            poll_once(b, at_b);
            return !at_b.empty();
        }());
    }
};

}  // namespace

TEST_CASE("a send after sockets closed without a poll since wakes the reactor instead of reading them", "[transport]") {
    dialed_pair p;
    auto& [a, b, b_endpoint, to_b, at_a, at_b] = p;
    // b answers over the accepted connection: a's dealer has now received, so a send on it
    // makes it a socket to look at again afterwards.
    frame answer(std::string_view("answer"));
    REQUIRE(b.send(at_b.front().from, answer) == send_status::ok);
    WAIT_FOR("a hears b", (poll_once(a, at_a), !at_a.empty()));

    frame again(std::string_view("again"));
    REQUIRE(a.send(to_b, again) == send_status::ok);
    a.hang_up(b_endpoint);                  // closes the dealer the send just used, in the same turn
    CHECK(a.settle_after_foreign_sends());  // stale tables: wake the reactor, touch nothing

    poll_once(a, at_a);                           // the reactor's next poll rebuilds its tables
    CHECK_FALSE(a.settle_after_foreign_sends());  // nothing sent since: nothing to look at
}

TEST_CASE("a socket that brought one message at a time hands over a burst whole, in order", "[transport]") {
    dialed_pair p;
    auto& [a, b, b_endpoint, to_b, at_a, at_b] = p;
    // Request and response: b's ROUTER brings one message per poll, so b takes one and
    // leaves the look for more to its next prepare_wait.
    for (int i = 0; i < 5; ++i) {
        at_b.clear();
        frame ping(std::string_view("ping"));
        REQUIRE(a.send(to_b, ping) == send_status::ok);
        WAIT_FOR("b hears the ping", (poll_once(b, at_b), !at_b.empty()));
        CHECK(at_b.size() == 1);
    }
    // Two at once: a poll takes one, and the next finds the other at once, by the recheck
    // before its wait or by the descriptor. Polled with a 2 s timeout, a message left for
    // the look at every socket (made only before a wait) would come 2 s late.
    at_b.clear();
    for (const auto* text : {"first", "second"}) {
        frame message{std::string_view(text)};
        REQUIRE(a.send(to_b, message) == send_status::ok);
    }
    const auto started = std::chrono::steady_clock::now();
    for (int poll = 0; poll < 10 && at_b.size() < 2; ++poll) {
        const int timeout_ms = b.prepare_wait(std::chrono::milliseconds(2000));
        b.collect(b.wait_for_input(timeout_ms), at_b);
    }
    CHECK(std::chrono::steady_clock::now() - started < 1500ms);
    REQUIRE(at_b.size() == 2);
    CHECK(at_b[0].frame.view() == "first");
    CHECK(at_b[1].frame.view() == "second");

    // Then a burst: whatever the first poll leaves, the recheck finds, and the polls after it
    // drain in bulk again. Stuck at one per poll, the burst would take 200 polls.
    constexpr int burst = 200;
    for (int i = 0; i < burst; ++i) {
        frame message{std::string_view(std::to_string(i))};
        REQUIRE(a.send(to_b, message) == send_status::ok);
    }
    at_b.clear();
    int polls = 0;
    WAIT_FOR("the burst arrives", (++polls, poll_once(b, at_b), at_b.size() >= burst));
    CHECK(polls < burst / 4);
    REQUIRE(at_b.size() == burst);
    for (int i = 0; i < burst; ++i) CHECK(at_b[i].frame.view() == std::to_string(i));
}

TEST_CASE("a send for a peer's lane that is not connected says so, and a lane given up on takes the control connection",
          "[transport][channels]") {
    // a has no data lanes of its own, so b's lanes to it connect only when this test makes
    // them: a late lane, as after a reconnection or a slow connect, made deterministic.
    auto b_options = options_for("b", role::server);
    b_options.channels["bulk"] = 2;
    zmq_transport a{options_for("a", role::client)};
    zmq_transport b{b_options};
    std::vector<inbound> at_a, at_b;
    const core::link to_b{core::link::kind::dialed, b.bound_router_endpoint()};
    a.dial(b.bound_router_endpoint());
    WAIT_FOR("a reaches b", [&] {
        frame hello(std::string_view("hello"));
        if (a.send(to_b, hello) != send_status::ok) return false;
        poll_once(b, at_b);
        return !at_b.empty();
    }());
    const core::link to_a = at_b.front().from;
    zmq::context_t context;
    // A dialing socket as the transport makes them: it announces each new connection.
    auto dialing = [&](const std::string& routing_id) {
        zmq::socket_t socket(context, zmq::socket_type::dealer);
        socket.set(zmq::sockopt::routing_id, routing_id);
        socket.set(zmq::sockopt::probe_router, 1);
        socket.set(zmq::sockopt::linger, 0);
        socket.set(zmq::sockopt::rcvtimeo, 5000);
        socket.connect(b.bound_router_endpoint());
        return socket;
    };

    // Lane 0 connects while its first frame waits: the frame then goes on it, intact.
    frame first(std::string_view("on-lane-0"));
    REQUIRE(b.send(to_a, first, "bulk", 0) == send_status::lane_not_connected);
    CHECK(first.view() == "on-lane-0");
    auto lane0 = dialing("a|bulk|0");
    WAIT_FOR("lane 0 takes the waiting frame", b.send(to_a, first, "bulk", 0) == send_status::ok);
    zmq::message_t got;
    REQUIRE(lane0.recv(got));
    CHECK(got.to_string_view() == "on-lane-0");

    // Lane 1 never connects: given up on (flow control decides when), its frames go on the
    // control connection, from then on at once.
    frame second(std::string_view("via-control"));
    REQUIRE(b.send(to_a, second, "bulk", 1) == send_status::lane_not_connected);
    CHECK(second.view() == "via-control");
    b.use_control_connection(to_a, "bulk", 1);
    REQUIRE(b.send(to_a, second, "bulk", 1) == send_status::ok);
    frame third(std::string_view("via-control-again"));
    CHECK(b.send(to_a, third, "bulk", 1) == send_status::ok);
    WAIT_FOR("a hears both on its control connection", (poll_once(a, at_a), at_a.size() >= 2));
    CHECK(at_a[0].frame.view() == "via-control");
    CHECK(at_a[1].frame.view() == "via-control-again");

    // Lane 1 turns up after all: for the rest of this session its frames stay on the control
    // connection, behind those already sent there, instead of overtaking them on the lane.
    {
        auto lane1 = dialing("a|bulk|1");
        (void)lane1.send(zmq::buffer(std::string_view("lane-1-is-here")), zmq::send_flags::none);
        WAIT_FOR("b knows lane 1", (poll_once(b, at_b), std::any_of(at_b.begin(), at_b.end(), [](const inbound& m) {
                                        return m.frame.view() == "lane-1-is-here";
                                    })));
        frame fourth(std::string_view("still-via-control"));
        CHECK(b.send(to_a, fourth, "bulk", 1) == send_status::ok);
        WAIT_FOR("a hears it on its control connection", (poll_once(a, at_a), at_a.size() >= 3));
        CHECK(at_a[2].frame.view() == "still-via-control");
        zmq::message_t on_lane;
        CHECK_FALSE(lane1.recv(on_lane, zmq::recv_flags::dontwait));
    }

    // Lane 0 drops (a recycled connection reconnects without announcing itself): sends say
    // it is not there again.
    lane0.close();
    WAIT_FOR("lane 0 missing again", [&] {
        frame probe(std::string_view("lane-0-again"));
        return b.send(to_a, probe, "bulk", 0) == send_status::lane_not_connected;
    }());

    // A new control connection of a (a restart: it takes a's name over) is a new session:
    // the lanes given up on in the last one are waited for again.
    auto restarted = dialing("a");
    WAIT_FOR("b waits for lane 1 again", [&] {
        poll_once(b, at_b);
        frame probe(std::string_view("after-restart"));
        return b.send(to_a, probe, "bulk", 1) == send_status::lane_not_connected;
    }());
    // The announcements reached no one as messages, and none counted as malformed.
    for (const auto& message : at_b)
        if (!message.connection_lost) CHECK(message.frame.size() > 0);  // lane 0's close is one
    CHECK(b.malformed_frames() == 0);
}

TEST_CASE("peers hung up and dialed again while traffic flows: every poll set is built from live sockets",
          "[transport][hang_up]") {
    // A client with data lanes dials four servers, hears from each, and in every round hangs
    // up some of them between polls (their dealers, lanes and monitors close in the same turn)
    // and dials them again, while the others keep talking. Each rebuild of the poll set must
    // read only sockets that are still open: under AddressSanitizer a read of a closed one's
    // handle is a heap-use-after-free.
    auto a_options = options_for("a", role::client);
    a_options.channels["bulk"] = 2;
    zmq_transport a{a_options};
    std::vector<std::unique_ptr<zmq_transport>> servers;
    std::vector<std::string> endpoints;
    for (int i = 0; i < 4; ++i) {
        auto options = options_for("s" + std::to_string(i), role::server);
        options.channels["bulk"] = 2;
        servers.push_back(std::make_unique<zmq_transport>(options));
        endpoints.push_back(servers.back()->bound_router_endpoint());
        a.dial(endpoints.back());
    }
    std::vector<inbound> at_a;
    std::vector<std::vector<inbound>> at_server(servers.size());
    // Each server answers whatever it hears, so a's sockets receive and are rechecked.
    auto serve = [&](std::size_t i) {
        poll_once(*servers[i], at_server[i]);
        for (auto& message : at_server[i]) {
            if (message.connection_lost) continue;
            frame answer(std::string_view("answer"));
            (void)servers[i]->send(message.from, answer);
        }
        at_server[i].clear();
    };
    std::size_t answers = 0;
    for (int round = 0; round < 30; ++round) {
        for (std::size_t i = 0; i < servers.size(); ++i) {
            const core::link to{core::link::kind::dialed, endpoints[i]};
            frame control(std::string_view("control"));
            (void)a.send(to, control);
            frame bulk(std::string_view("bulk"));
            (void)a.send(to, bulk, "bulk", static_cast<std::uint32_t>(round % 2));
            serve(i);
        }
        poll_once(a, at_a);
        // Hang up a different half each round, then poll (a rebuild) before dialing again.
        for (std::size_t i = round % 2; i < servers.size(); i += 2) a.hang_up(endpoints[i]);
        poll_once(a, at_a);
        for (std::size_t i = round % 2; i < servers.size(); i += 2) a.dial(endpoints[i]);
        poll_once(a, at_a);
        answers += static_cast<std::size_t>(std::count_if(at_a.begin(), at_a.end(), [](const inbound& m) {
            return !m.connection_lost && m.frame.view() == "answer";
        }));
        at_a.clear();
    }
    CHECK(a.dealer_count() == servers.size());
    // Traffic kept flowing through the churn: the peers never hung up answer to the end.
    WAIT_FOR("answers keep arriving", [&] {
        for (std::size_t i = 0; i < servers.size(); ++i) {
            frame control(std::string_view("control"));
            (void)a.send({core::link::kind::dialed, endpoints[i]}, control);
            serve(i);
        }
        poll_once(a, at_a);
        answers += static_cast<std::size_t>(std::count_if(at_a.begin(), at_a.end(), [](const inbound& m) {
            return !m.connection_lost && m.frame.view() == "answer";
        }));
        at_a.clear();
        return answers >= 40;
    }());
}

}  // namespace zpartisan::transport
