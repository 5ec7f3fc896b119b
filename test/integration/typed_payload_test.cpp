// Typed payloads serialized with cereal, end to end through a relay.
#include <future>
#include <map>

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

TEST_CASE("typed payloads with forged sizes decode to nothing, without allocating what they claim", "[typed]") {
    // The archive's first byte says the writer's byte order; then a string or vector size.
    auto forged = [](std::uint64_t claimed, std::string tail = "") {
        std::string bytes(1, static_cast<char>(cereal::portable_binary_detail::is_little_endian()));
        bytes.append(reinterpret_cast<const char*>(&claimed), sizeof claimed);
        return bytes + tail;
    };
    const auto started = std::chrono::steady_clock::now();
    // 2 GB each: the stock archive allocated and zeroed them before finding the bytes missing.
    CHECK_FALSE(decode_payload<std::vector<double>>(forged(1ull << 28)));
    CHECK_FALSE(decode_payload<std::string>(forged(1ull << 31)));
    CHECK_FALSE(decode_payload<std::vector<double>>(forged(1ull << 40)));
    CHECK_FALSE(decode_payload<std::map<std::string, std::string>>(forged(1ull << 35)));
    CHECK_FALSE(decode_payload<std::vector<double>>(forged(3, std::string(16, 'x'))));  // 2 of 3 doubles
    CHECK(std::chrono::steady_clock::now() - started < 1s);
    // Sizes the bytes can hold still decode, in every container.
    CHECK(decode_payload<std::string>(forged(5, "hello")) == std::string("hello"));
    const std::map<std::string, std::vector<double>> nested{{"a", {1.5, 2.5}}, {"b", {}}};
    CHECK(decode_payload<std::map<std::string, std::vector<double>>>(encode_payload(nested)) == nested);
    const order sent{"pear", 7, std::vector<double>(1000, 0.25)};
    CHECK(decode_payload<order>(encode_payload(sent)) == sent);
}
