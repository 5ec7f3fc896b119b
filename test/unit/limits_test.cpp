// The core's named limits (README "Limits"): peers per server, the frame limit a peer
// advertises in its handshake, and the duplicate windows' bounds, each with its counter.
#include <catch2/catch.hpp>

#include "core/peer_service.hpp"
#include "zpartisan/config.hpp"

using namespace zpartisan;
using namespace zpartisan::core;
using peer_link = zpartisan::core::link;

namespace {

node_spec spec_of(const std::string& name, role r, const std::string& home = {}) {
    return node_spec{name, r, "tcp://" + name + ":7000", r == role::server ? "tcp://" + name + ":7001" : "", home, 1,
                     "",   ""};
}

peer_service_options server_options() {
    peer_service_options options;
    options.self = spec_of("s1", role::server);
    options.cluster_name = "limits";
    options.max_message_bytes = 1u << 20;
    return options;
}

hello hello_of(const node_spec& spec, std::uint64_t max_message_bytes = 0) {
    membership_set own(spec.name + "/1");
    own.add(spec);
    return hello{core::protocol_version, "limits", spec, own.state(), max_message_bytes};
}

// What the node answered `to`: "welcome", "refusal <reason>" or "" for nothing.
std::string answer_to(peer_service& node, const std::string& to) {
    std::string answer;
    for (auto& effect : node.take_output())
        if (auto* send = std::get_if<effect::send>(&effect); send && send->to.id == to) {
            if (std::holds_alternative<welcome>(send->msg)) answer = "welcome";
            if (auto* no = std::get_if<core::refusal>(&send->msg))
                answer = "refusal " + std::to_string(static_cast<int>(no->reason));
        }
    return answer;
}

forward acked_from(const std::string& origin, std::uint64_t id) {
    forward f;
    f.origin = origin;
    f.origin_incarnation = 1;
    f.destination = "s1";
    f.handler = "work";
    f.channel = "default";
    f.id = id;
    f.ack = true;
    f.payload = "x";
    return f;
}

}  // namespace

TEST_CASE("a server refuses a hello from a new peer beyond max_peers, and counts it", "[limits]") {
    auto options = server_options();
    options.max_peers = 2;
    peer_service s1(options);
    s1.start(0);
    (void)s1.take_output();
    const peer_link c1{peer_link::kind::accepted, "c1"}, c2{peer_link::kind::accepted, "c2"},
        c3{peer_link::kind::accepted, "c3"};
    s1.on_message(c1, hello_of(spec_of("c1", role::client)), 10);
    CHECK(answer_to(s1, "c1") == "welcome");
    s1.on_message(c2, hello_of(spec_of("c2", role::client)), 20);
    CHECK(answer_to(s1, "c2") == "welcome");
    s1.on_message(c3, hello_of(spec_of("c3", role::client)), 30);
    CHECK(answer_to(s1, "c3") == "refusal " + std::to_string(static_cast<int>(refusal_reason::too_many_peers)));
    CHECK(s1.counters()["refused_hellos_too_many_peers"] == 1);
    CHECK_FALSE(s1.membership().contains("c3"));
    // A peer it holds says hello again (a reconnection): still welcome.
    s1.on_message(c1, hello_of(spec_of("c1", role::client)), 40);
    CHECK(answer_to(s1, "c1") == "welcome");
}

TEST_CASE("the frame limit a peer advertises in its handshake bounds what is sent its way", "[limits]") {
    peer_service s1(server_options());
    s1.start(0);
    (void)s1.take_output();
    const peer_link small{peer_link::kind::accepted, "c1"}, big{peer_link::kind::accepted, "c2"},
        old{peer_link::kind::accepted, "c3"};
    s1.on_message(small, hello_of(spec_of("c1", role::client, "s1"), 8192), 10);
    s1.on_message(big, hello_of(spec_of("c2", role::client, "s1"), 64u << 20), 10);
    s1.on_message(old, hello_of(spec_of("c3", role::client, "s1"), 0), 10);  // before protocol 6
    (void)s1.take_output();
    CHECK(s1.frame_limit_of(small) == 8192);
    CHECK(s1.frame_limit_of(big) == 1u << 20);  // never above our own
    CHECK(s1.frame_limit_of(old) == 1u << 20);  // said nothing: ours
    CHECK(s1.frame_limit_to("c1") == 8192);
    CHECK(s1.frame_limit_to("c2") == 1u << 20);
    CHECK(s1.counters()["peers_with_lower_frame_limit"] == 1);
    // Its welcome tells the joiner ours.
    s1.on_message(small, hello_of(spec_of("c1", role::client, "s1"), 8192), 20);
    bool advertised = false;
    for (auto& effect : s1.take_output())
        if (auto* send = std::get_if<effect::send>(&effect))
            if (auto* w = std::get_if<welcome>(&send->msg)) advertised = w->max_message_bytes == 1u << 20;
    CHECK(advertised);
}

TEST_CASE("duplicate windows of strangers are bounded by duplicate_windows_max", "[limits]") {
    auto options = server_options();
    options.duplicate_windows_max = 2;
    peer_service s1(options);
    s1.register_handler("work");
    s1.start(0);
    const peer_link from{peer_link::kind::accepted, "relay"};
    for (int i = 1; i <= 5; ++i) s1.on_message(from, acked_from("x" + std::to_string(i), 1), 10 + i);
    (void)s1.take_output();
    CHECK(s1.counters()["duplicate_windows_evicted"] == 3);
    CHECK(s1.counters()["duplicate_windows"] <= 3);
}

TEST_CASE("a duplicate window gives up its oldest gap past duplicate_window_gaps_max", "[limits]") {
    auto options = server_options();
    options.duplicate_window_gaps_max = 2;
    peer_service s1(options);
    s1.register_handler("work");
    s1.start(0);
    const peer_link from{peer_link::kind::accepted, "relay"};
    std::size_t delivered = 0;
    const auto deliveries = [&] {
        for (auto& effect : s1.take_output()) delivered += std::holds_alternative<effect::deliver>(effect) ? 1 : 0;
    };
    for (const std::uint64_t id : {1, 3, 5, 7}) s1.on_message(from, acked_from("x", id), 10);  // gaps 2, 4, 6
    deliveries();
    CHECK(delivered == 4);
    CHECK(s1.counters()["duplicate_window_gaps_given_up"] == 1);
    // The gap given up on reads as seen: its late copy is not handled; a gap still tracked is.
    s1.on_message(from, acked_from("x", 2), 20);
    s1.on_message(from, acked_from("x", 4), 20);
    deliveries();
    CHECK(delivered == 5);
}
