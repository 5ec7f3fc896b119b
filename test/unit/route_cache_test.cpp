// The routes a node worked out (core/route_cache.hpp): kept until invalidated, bounded, and
// the hot paths' two decisions taken from them.
#include <catch2/catch.hpp>

#include "core/route_cache.hpp"

using namespace zpartisan;
using core::relay_verdict;
using core::route_status;

namespace {
core::cached_route via(std::string endpoint, bool blocked = false) {
    return {route_status::ok, core::link{core::link::kind::dialed, std::move(endpoint)}, blocked};
}
}  // namespace

TEST_CASE("a route is kept until invalidated, which moves the epoch", "[route_cache]") {
    core::route_cache routes;
    CHECK(routes.find("s2") == nullptr);
    routes.store("s2", via("tcp://s2"), 10);
    REQUIRE(routes.find(std::string_view("s2")) != nullptr);
    CHECK(routes.find("s2")->hop->id == "tcp://s2");
    const auto epoch = routes.epoch();
    routes.invalidate();
    CHECK(routes.epoch() == epoch + 1);
    CHECK(routes.find("s2") == nullptr);
}

TEST_CASE("past its bound the cache starts again", "[route_cache]") {
    core::route_cache routes;
    for (int i = 0; i < 4; ++i) routes.store("x" + std::to_string(i), {}, 3);
    CHECK(routes.find("x0") != nullptr);
    routes.store("x4", {}, 3);  // four held, over the bound of three: cleared first
    CHECK(routes.find("x0") == nullptr);
    CHECK(routes.find("x4") != nullptr);
}

TEST_CASE("an application message leaves on the route's hop, or hears why not", "[route_cache]") {
    core::link hop;
    CHECK(core::route_cache::app_route(via("tcp://s2"), &hop) == route_status::ok);
    CHECK(hop.id == "tcp://s2");
    CHECK(core::route_cache::app_route({route_status::partitioned, std::nullopt, false}, &hop) ==
          route_status::partitioned);
    CHECK(core::route_cache::app_route({route_status::ok, std::nullopt, false}, &hop) == route_status::disconnected);
}

TEST_CASE("a message passing through goes on within the hop limit, on a hop not cut off", "[route_cache]") {
    CHECK(core::route_cache::relay(via("tcp://s2"), 0, 3) == relay_verdict::forward);
    CHECK(core::route_cache::relay(via("tcp://s2"), 2, 3) == relay_verdict::forward);
    CHECK(core::route_cache::relay(via("tcp://s2"), 3, 3) == relay_verdict::hop_limit);
    CHECK(core::route_cache::relay({route_status::unknown_node, std::nullopt, false}, 0, 3) ==
          relay_verdict::unroutable);
    CHECK(core::route_cache::relay(via("tcp://s2", true), 0, 3) == relay_verdict::partitioned);
}
