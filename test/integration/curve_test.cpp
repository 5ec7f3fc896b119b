// CurveZMQ through the embedding API (README, "Security"): keys in the config, every socket
// CURVE, a key off the allow list refused until set_curve_allowed_keys lets it in.
#include "cluster_fixture.hpp"
#include "transport/curve_keys.hpp"

using namespace zpartisan;
using namespace zpartisan::test;
using namespace std::chrono_literals;

namespace {
config curve_config(const std::string& name, const transport::curve_keypair& keys,
                    const std::vector<std::string>& allowed) {
    auto cfg = test_config(name, role::server);
    cfg.curve_secret_key = keys.secret_key;
    cfg.curve_allowed_keys = allowed;
    return cfg;
}
}  // namespace

TEST_CASE("curve nodes join by endpoint#key, run CURVE on every socket, and admit only allowed keys", "[curve]") {
    REQUIRE(Node::supports_capability("curve"));
    const auto k1 = transport::generate_curve_keypair();
    const auto k2 = transport::generate_curve_keypair();
    const auto k3 = transport::generate_curve_keypair();
    Node s1(curve_config("s1", k1, {k2.public_key}));
    Node s2(curve_config("s2", k2, {k1.public_key}));
    Node s3(curve_config("s3", k3, {k1.public_key, k2.public_key}));
    CHECK(s1.curve_public_key() == k1.public_key);
    CHECK(s1.status().self.public_key == k1.public_key);

    const auto without_key = s2.sync_join(s1.router_endpoint(), 1s);
    CHECK(without_key.status == op_status::bad_endpoint);
    const auto keyed = s1.router_endpoint() + "#" + k1.public_key;
    REQUIRE(s2.sync_join(keyed, 10s).ok());
    const auto counters = s2.status().counters;
    CHECK(counters.at("curve") == 1);
    CHECK(counters.at("sockets_mechanism_curve") >= 4);  // ROUTER, PUB, SUB, DEALER and its lanes
    CHECK_FALSE(counters.contains("sockets_mechanism_null"));

    // s3's key is on no one's list: refused at the handshake, never a member.
    CHECK_FALSE(s3.sync_join(keyed, 1500ms).ok());
    CHECK(s1.status().counters.at("zap_refused") >= 1);
    CHECK(s1.members() == std::vector<std::string>{"s1", "s2"});

    // Allowed while everyone runs: s3 gets in (its refused dial is made again) and meets s2
    // through the key s2's spec carries.
    const auto change = s1.set_curve_allowed_keys({k2.public_key, k3.public_key});
    CHECK(change.added == std::vector<std::string>{k3.public_key});
    CHECK(change.removed.empty());
    (void)s2.set_curve_allowed_keys({k1.public_key, k3.public_key});
    REQUIRE(s3.join(keyed).ok());  // the timed-out sync_join gave its target up
    CHECK(eventually([&] { return s3.members().size() == 3 && s2.members().size() == 3; }, 15s));
    CHECK_THROWS_AS(s1.set_curve_allowed_keys({"not a key"}), usage_error);
}
