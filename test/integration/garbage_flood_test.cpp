// A server flooded with garbage (random bytes on raw TCP connections, random frames and
// frames that look like the protocol from hundreds of ZeroMQ peers, hellos from the wrong
// cluster) writes a few dozen log lines, not one per frame, shows none of the peers' bytes
// raw, counts every drop, and goes on serving its members.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <random>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sstream>
#include <zmq.hpp>

#include "cluster_fixture.hpp"
#include "core/messages.hpp"
#include "wire/codec.hpp"

using namespace zpartisan;
using namespace zpartisan::test;

namespace {

// Everything logged while it lives goes to `lines`, at the daemon's default level (info).
struct captured_log {
    std::ostringstream lines;
    std::shared_ptr<spdlog::logger> previous = spdlog::default_logger();
    captured_log() {
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(lines);
        auto logger = std::make_shared<spdlog::logger>("captured", sink);
        logger->set_level(spdlog::level::info);
        logger->set_pattern("%l %v");
        spdlog::set_default_logger(logger);
    }
    ~captured_log() { spdlog::set_default_logger(previous); }
    std::vector<std::string> all() {
        spdlog::default_logger()->flush();
        std::vector<std::string> out;
        std::istringstream in(lines.str());
        for (std::string line; std::getline(in, line);) out.push_back(line);
        return out;
    }
};

int port_of(const std::string& endpoint) { return std::stoi(endpoint.substr(endpoint.rfind(':') + 1)); }

std::string random_bytes(std::mt19937& rng, std::size_t n) {
    std::string bytes(n, '\0');
    for (auto& b : bytes) b = static_cast<char>(rng());
    return bytes;
}

// Random bytes straight onto TCP connections: no ZMTP greeting at all.
void flood_raw_tcp(int port, std::mt19937& rng, int connections, std::size_t bytes_each) {
    for (int i = 0; i < connections; ++i) {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        REQUIRE(fd >= 0);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(static_cast<std::uint16_t>(port));
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0) {
            const auto garbage = random_bytes(rng, bytes_each);
            (void)::send(fd, garbage.data(), garbage.size(), MSG_NOSIGNAL);
        }
        ::close(fd);
    }
}

}  // namespace

TEST_CASE("a garbage flood leaves a short, escaped log, counted drops and a serving node", "[security][flood]") {
    captured_log log;
    auto s1 = make_node("s1", role::server);
    auto c1 = make_node("c1", role::client);
    auto c2 = make_node("c2", role::client);
    std::atomic<int> handled{0};
    c2->register_handler("work", [&](const inbound_message&) { ++handled; });
    REQUIRE(c1->sync_join(s1->router_endpoint(), std::chrono::seconds(10)).ok());
    REQUIRE(c2->sync_join(s1->router_endpoint(), std::chrono::seconds(10)).ok());
    WAIT_FOR("c1 reaches c2", c1->forward_message("c2", "work", "before") == send_status::ok && handled.load() > 0);
    const auto lines_before = log.all().size();

    std::mt19937 rng(20);
    flood_raw_tcp(port_of(s1->router_endpoint()), rng, 50, 4096);

    // ZeroMQ peers, each with its own routing id (some with control characters in it),
    // sending random frames, frames with our magic and garbage after it, and hellos from
    // another cluster.
    constexpr int peers = 200, frames_each = 20;
    zmq::context_t context;
    std::vector<zmq::socket_t> dealers;
    core::hello wrong_cluster{core::protocol_version,
                              "someone-else",
                              node_spec{"intruder", role::server, "tcp://127.0.0.1:1", "", "", 1, "", ""},
                              {},
                              0};
    for (int p = 0; p < peers; ++p) {
        auto& dealer = dealers.emplace_back(context, zmq::socket_type::dealer);
        dealer.set(zmq::sockopt::linger, 0);
        dealer.set(zmq::sockopt::routing_id, "junk\x1b[31m\n" + std::to_string(p));
        dealer.connect(s1->router_endpoint());
        for (int f = 0; f < frames_each; ++f) {
            std::string frame;
            switch (f % 4) {
                case 0:
                    frame = random_bytes(rng, 1 + rng() % 300);
                    break;
                case 1:
                    frame = "ZP\x01" + random_bytes(rng, 1 + rng() % 300);
                    break;
                case 2:
                    frame = std::string("ZP\x01\x09", 4) + random_bytes(rng, rng() % 40);
                    break;  // a heartbeat's type
                case 3:
                    wrong_cluster.spec.name = "junk\x1b[31m\n" + std::to_string(p);
                    frame = wire::encode(wrong_cluster);
                    break;
            }
            (void)dealer.send(zmq::buffer(frame), zmq::send_flags::dontwait);
        }
    }
    const auto dropped_or_refused = [&] {
        std::uint64_t total = 0;
        for (const auto& [name, value] : s1->status().counters)
            if (name.starts_with("dropped_decode_") || name == "refused_hellos") total += value;
        return total;
    };
    // Every ZeroMQ frame is accounted for (the raw TCP bytes may or may not parse as frames).
    WAIT_FOR("the flood is counted", dropped_or_refused() >= std::uint64_t{peers} * frames_each);
    dealers.clear();

    // Still serving its members.
    const int before = handled.load();
    WAIT_FOR("c1 still reaches c2 through s1",
             c1->forward_message("c2", "work", "after") == send_status::ok && handled.load() > before);
    CHECK(s1->status().counters["log_lines_suppressed"] > 0);

    const auto lines = log.all();
    const auto flood_lines = lines.size() - lines_before;
    INFO("log lines during the flood: " << flood_lines << " for " << dropped_or_refused() << " bad frames");
    // Per reason a burst of 10, then one a second; a handful of reasons over a few seconds.
    CHECK(flood_lines < 150);
    for (const auto& line : lines) {
        CAPTURE(line);
        for (const char c : line)
            REQUIRE((static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) <= 0x7e));
        CHECK(line.find("junk\x1b") == std::string::npos);
    }
    bool escaped_routing_id = false;
    for (const auto& line : lines)
        escaped_routing_id = escaped_routing_id || line.find("junk%1B[31m%0A") != std::string::npos;
    CHECK(escaped_routing_id);
}
