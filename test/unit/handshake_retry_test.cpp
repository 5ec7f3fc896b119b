// Unanswered hellos are repeated with a bounded backoff whose jitter comes from the seeded
// generator: joiners that started together spread their repeats out, and a seed replays.
#include <catch2/catch.hpp>

#include "core/peer_service.hpp"

using namespace zpartisan;
using namespace zpartisan::core;

namespace {

// The times at which a client joining a silent server says hello, over `until_ms`.
std::vector<std::uint64_t> hello_times(std::uint64_t seed, std::uint64_t until_ms) {
    peer_service_options options;
    options.self = node_spec{"c1", role::client, "tcp://c1:7000", "", "", 1, "", ""};
    options.cluster_name = "retry";
    options.rng_seed = seed;
    options.handshake_retry_ms = 500;
    options.handshake_retry_max_ms = 5000;
    peer_service client(options);
    client.start(0);
    client.join("tcp://s1:7000", 0);
    std::vector<std::uint64_t> times;
    for (std::uint64_t now = 0; now <= until_ms; now += 10) {
        if (now > 0) client.tick(now);
        for (auto& effect : client.take_output())
            if (auto* send = std::get_if<effect::send>(&effect); send && std::holds_alternative<hello>(send->msg))
                times.push_back(now);
    }
    return times;
}

}  // namespace

TEST_CASE("hello retries back off to the bound with seeded jitter", "[peer_service][handshake]") {
    const auto first = hello_times(1, 60000);
    REQUIRE(first.size() >= 10);
    CHECK(first.front() == 0);
    for (std::size_t i = 1; i < first.size(); ++i) {
        const auto gap = first[i] - first[i - 1];
        INFO("hello " << i << " after " << gap << " ms");
        CHECK(gap >= 500 * 3 / 4);
        CHECK(gap <= 5000 + 10);  // never past the bound (plus one tick)
    }
    CHECK(first.back() - first[first.size() - 2] >= 5000 * 3 / 4);  // it reached the bound
    CHECK(hello_times(1, 60000) == first);                          // a seed replays
    CHECK(hello_times(2, 60000) != first);                          // another spreads out
}
