// Typed payloads serialized with cereal, end to end through a relay.
#include <future>

#include "cluster_fixture.hpp"
#include "zpartisan/typed.hpp"

using namespace zpartisan;
using namespace zpartisan::test;
using namespace std::chrono_literals;

namespace {
struct order {
    std::string item;
    std::uint32_t quantity = 0;
    std::vector<double> prices;

    template <class Archive>
    void serialize(Archive& archive) {
        archive(item, quantity, prices);
    }
    bool operator==(const order&) const = default;
};
}  // namespace

TEST_CASE("typed payloads round-trip through the relay: garbage decodes to nothing", "[messaging][typed]") {
    std::promise<std::optional<order>> got;
    auto s1 = make_node("s1", role::server);
    auto c1 = make_node("c1", role::client);
    auto c2 = make_node("c2", role::client);
    REQUIRE(c1->sync_join(s1->router_endpoint(), 10s).ok());
    REQUIRE(c2->sync_join(s1->router_endpoint(), 10s).ok());
    c2->register_handler("orders", [&](const inbound_message& m) { got.set_value(decode_payload<order>(m.payload)); });
    const order sent{"apple", 3, {1.2, 1.1}};
    WAIT_FOR("c1 can route to c2", c1->forward_message("c2", "orders", encode_payload(sent)) == send_status::ok);
    auto future = got.get_future();
    REQUIRE(future.wait_for(5s) == std::future_status::ready);
    const auto received = future.get();
    REQUIRE(received);
    CHECK(*received == sent);
    CHECK_FALSE(decode_payload<order>("not cereal"));
    CHECK_FALSE(decode_payload<order>(""));
    CHECK_FALSE(decode_payload<order>(encode_payload(sent) + "tail"));
}
