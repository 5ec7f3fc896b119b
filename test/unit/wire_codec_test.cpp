// The codec: every message round-trips; garbage, truncation, forged sizes, wrong versions and
// oversized frames are rejected as error values, never exceptions.
#include <catch2/catch.hpp>
#include <algorithm>
#include <chrono>
#include <limits>
#include <random>

#include "wire/codec.hpp"
#include "zpartisan/config.hpp"

using namespace zpartisan;
using namespace zpartisan::core;

namespace {

constexpr std::size_t limit = 1 << 20;

membership_state sample_state() {
    membership_set a("a/1"), b("b/7");
    a.add(node_spec{"s1", role::server, "tcp://10.0.0.1:7000", "tcp://10.0.0.1:7001", "", 11, "", ""});
    b.add(node_spec{"c1", role::client, "tcp://10.0.0.2:7000", "", "s1", 12, "blue", ""});
    b.add(node_spec{"c2", role::client, "tcp://10.0.0.3:7000", "", "s1", 13, "", ""});
    b.remove("c1");
    a.join(b.state());
    return a.state();
}

std::vector<message> one_of_each() {
    const auto state = sample_state();
    const node_spec spec{"s9", role::server, "tcp://h:1", "tcp://h:2",
                         "",   99,           "t",         "rq[u8HQbq@gc?Bb}ty!7@&5{tJ2$5FTkC89Yt1*L"};
    membership_digest seen{state.context, {}};
    seen.live.insert(dot{"a/1", 1});
    return {
        hello{core::protocol_version, "prod", spec, state, 1u << 20},
        welcome{spec, state, 42, 65536},
        referral{"a client accepts no connections", "s1", {"tcp://a:1", "tcp://b:2"}, {"k1", ""}},
        refusal{refusal_reason::wrong_cluster, "wrong cluster 'x'"},
        delta{"s1", 7, state},
        digest{"c1", seen},
        sync_delta{"s2", 9, state},
        beacon{"s3", 123},
        heartbeat{"c4"},
        liveness{"s1", "c2", false, 450, 4, true},
        digest{"c3", {}, 0x0123456789abcdefull, false},  // a periodic round: the fingerprint only
        partition_request{"c1/2#3", "c7", 1, "c1"},
        partition_resolve{"c1/2#3"},
        partition_groups{"s1/1#1", {{"s1", "c1"}, {"s2"}}},
        partition_applied{"c1/2#3", "c1", "c7"},
    };
}

// Field-by-field equality through re-encoding: two messages are equal when their bytes are.
bool same(const message& a, const message& b) { return wire::encode(a) == wire::encode(b); }

}  // namespace

TEST_CASE("every message type round-trips through the codec", "[codec]") {
    for (const auto& original : one_of_each()) {
        CAPTURE(name_of(type_of(original)));
        const auto frame = wire::encode(original);
        const auto decoded = wire::decode(frame, limit);
        REQUIRE(decoded.error == wire::decode_error::none);
        REQUIRE(decoded.message);
        CHECK(decoded.message->index() == original.index());
        CHECK(same(*decoded.message, original));
    }
    // Spot checks that fields really survive (not just the bytes).
    const auto decoded = wire::decode(wire::encode(one_of_each()[0]), limit);
    const auto& h = std::get<hello>(*decoded.message);
    CHECK(h.spec.name == "s9");
    CHECK(h.spec.incarnation == 99);
    CHECK(h.state == sample_state());
    CHECK(h.max_message_bytes == 1u << 20);
    CHECK(std::get<welcome>(*wire::decode(wire::encode(one_of_each()[1]), limit).message).max_message_bytes == 65536);
    const auto l = std::get<liveness>(*wire::decode(wire::encode(one_of_each()[9]), limit).message);
    CHECK(l.subject == "c2");
    CHECK_FALSE(l.reachable);
    CHECK(l.connection_lost);
    CHECK(l.missed_heartbeats == 4);
    const auto d = std::get<digest>(*wire::decode(wire::encode(one_of_each()[10]), limit).message);
    CHECK(d.fingerprint == 0x0123456789abcdefull);
    CHECK_FALSE(d.full);
    CHECK(d.seen == membership_digest{});
    const auto r = std::get<partition_request>(*wire::decode(wire::encode(one_of_each()[11]), limit).message);
    CHECK(r.requester == "c1");
    CHECK(r.ttl == 1);
    const auto a = std::get<partition_applied>(*wire::decode(wire::encode(one_of_each()[14]), limit).message);
    CHECK(a.ref == "c1/2#3");
    CHECK(a.requester == "c1");
    CHECK(a.origin == "c7");
}

TEST_CASE("a membership state round-trips on its own", "[codec]") {
    const auto state = sample_state();
    const auto bytes = wire::encode_state(state);
    const auto decoded = wire::decode_state(bytes, limit);
    REQUIRE(decoded);
    CHECK(*decoded == state);
    CHECK_FALSE(wire::decode_state(bytes.substr(0, bytes.size() - 1), limit));
    CHECK_FALSE(wire::decode_state(bytes + "x", limit));
    CHECK_FALSE(wire::decode_state("", limit));
    CHECK_FALSE(wire::decode_state(bytes, bytes.size() - 1));
}

TEST_CASE("malformed frames are classified, never thrown", "[codec]") {
    CHECK(wire::decode("", limit).error == wire::decode_error::too_short);
    CHECK(wire::decode("ZP\x01", limit).error == wire::decode_error::too_short);
    CHECK(wire::decode("XX\x01\x01", limit).error == wire::decode_error::bad_magic);
    CHECK(wire::decode(std::string("ZP\x02\x01", 4), limit).error == wire::decode_error::unsupported_envelope_version);
    for (int type : {0, 17, 200, 255}) {
        std::string frame("ZP\x01", 3);
        frame.push_back(static_cast<char>(type));
        CAPTURE(type);
        CHECK(wire::decode(frame, limit).error == wire::decode_error::unknown_type);
    }
    const auto big = wire::encode(one_of_each()[0]);
    CHECK(wire::decode(big, big.size() - 1).error == wire::decode_error::too_large);
    CHECK(wire::decode(big + "trailing", limit).error == wire::decode_error::malformed);
}

TEST_CASE("every truncation of every message is rejected", "[codec]") {
    for (const auto& original : one_of_each()) {
        const auto frame = wire::encode(original);
        CAPTURE(name_of(type_of(original)));
        // hello and welcome without their last field are what a node before protocol 6 sends.
        const bool optional_tail = std::holds_alternative<hello>(original) || std::holds_alternative<welcome>(original);
        for (std::size_t cut = 0; cut < frame.size(); ++cut) {
            if (optional_tail && cut == frame.size() - sizeof(std::uint64_t)) continue;
            const auto result = wire::decode(std::string_view(frame).substr(0, cut), limit);
            CAPTURE(cut);
            REQUIRE_FALSE(result.message);
            REQUIRE(result.error != wire::decode_error::none);
        }
    }
}

TEST_CASE("forged lengths and counts are refused before allocating", "[codec]") {
    // A heartbeat whose origin claims 2^62 bytes.
    std::string frame("ZP\x01\x09", 4);
    frame.push_back('\x01');  // cereal portable binary: little-endian marker
    const std::uint64_t huge = 1ull << 62;
    frame.append(reinterpret_cast<const char*>(&huge), sizeof huge);
    auto result = wire::decode(frame, limit);
    CHECK(result.error == wire::decode_error::malformed);
    CHECK_THAT(result.detail, Catch::Contains("over limit"));

    // A digest claiming a million actors with nothing behind them.
    std::string digest_frame("ZP\x01\x06", 4);
    digest_frame.push_back('\x01');
    const std::uint64_t empty_origin = 0, many = 1'000'000;
    digest_frame.append(reinterpret_cast<const char*>(&empty_origin), 8);
    digest_frame.append(reinterpret_cast<const char*>(&many), 8);
    CHECK(wire::decode(digest_frame, limit).error == wire::decode_error::malformed);
}

TEST_CASE("states that break the CRDT's invariants are rejected", "[codec]") {
    // An entry whose dot is outside the context.
    membership_state bad;
    bad.entries.emplace(dot{"x/1", 5}, node_spec{"x", role::server, "tcp://x:1", "", "", 1, "", ""});
    bad.context.insert(dot{"x/1", 1});
    CHECK_FALSE(wire::decode(wire::encode(delta{"x", 1, bad}), limit).message);

    // A digest whose context holds these intervals for one actor.
    using intervals = std::vector<std::pair<std::uint64_t, std::uint64_t>>;
    auto digest_with = [](const intervals& ranges) {
        std::string raw("ZP\x01\x06", 4);
        raw.push_back('\x01');
        auto put = [&](std::uint64_t v) { raw.append(reinterpret_cast<const char*>(&v), 8); };
        put(1);
        raw += "s";  // origin
        put(1);      // one actor
        put(3);
        raw += "a/1";  // actor
        put(ranges.size());
        for (const auto& [first, last] : ranges) {
            put(first);
            put(last);
        }
        put(0);                 // live: no actors
        put(0);                 // fingerprint
        raw.push_back('\x01');  // full
        return raw;
    };
    constexpr auto top = std::numeric_limits<std::uint64_t>::max();
    REQUIRE(wire::decode(digest_with({{1, 3}, {5, 9}}), limit).message);
    // [0, 0], [5, 3], one ending at the largest counter (it would wrap), out of order,
    // overlapping, adjacent (a sender never keeps those apart).
    for (const auto& ranges : {intervals{{0, 0}}, intervals{{5, 3}}, intervals{{11, top}}, intervals{{5, 9}, {1, 3}},
                               intervals{{1, 5}, {3, 9}}, intervals{{1, 4}, {5, 9}}}) {
        CAPTURE(ranges);
        CHECK(wire::decode(digest_with(ranges), limit).error == wire::decode_error::malformed);
    }
    // Many ranges in descending order are refused at the second, not merged one by one at the
    // front (which was quadratic: tens of seconds for a 4 MiB frame).
    intervals descending;
    for (std::uint64_t i = 200'000; i > 0; --i) descending.emplace_back(3 * i, 3 * i);
    const auto started = std::chrono::steady_clock::now();
    CHECK(wire::decode(digest_with(descending), 8u << 20).error == wire::decode_error::malformed);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));
    // And as many in ascending order decode, in linear time.
    std::reverse(descending.begin(), descending.end());
    CHECK(wire::decode(digest_with(descending), 8u << 20).message);
}

TEST_CASE("an actor named twice with interleaved ranges decodes in linear time", "[codec]") {
    // Each list is ascending and apart, but the second one's ranges fall between the first
    // one's: merged one range at a time, each shifted the whole list, about 20 s of the
    // reactor for one 4 MiB digest. The fuzzers' small inputs cannot show that.
    constexpr std::uint64_t ranges = 130'000;  // two lists of them fill a 4 MiB frame
    std::string raw("ZP\x01\x06", 4);
    raw.push_back('\x01');
    auto put = [&](std::uint64_t v) { raw.append(reinterpret_cast<const char*>(&v), 8); };
    put(1);
    raw += "s";  // origin
    put(2);      // two actors, both "a/1"
    for (std::uint64_t offset : {1, 2}) {
        put(3);
        raw += "a/1";
        put(ranges);
        for (std::uint64_t i = 0; i < ranges; ++i) {
            put(2 * i + offset);
            put(2 * i + offset);
        }
    }
    put(0);                 // live: no actors
    put(0);                 // fingerprint
    raw.push_back('\x01');  // full
    const auto started = std::chrono::steady_clock::now();
    const auto result = wire::decode(raw, 8u << 20);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
    REQUIRE(result.message);
    const auto& seen = std::get<digest>(*result.message).seen.context;
    CHECK(seen.actors().at("a/1").ranges() == std::vector<interval_set::interval>{{1, 2 * ranges}});
}

TEST_CASE("random bytes and bit flips never escape the decoder", "[codec]") {
    std::mt19937_64 rng(20261124);
    const auto valid = one_of_each();
    std::size_t accepted = 0;
    for (int i = 0; i < 20000; ++i) {
        std::string frame;
        if (i % 2 == 0) {
            frame.resize(rng() % 300);
            for (auto& c : frame) c = static_cast<char>(rng());
            if (i % 4 == 0 && frame.size() >= 4) {  // make some look like real frames
                frame[0] = 'Z';
                frame[1] = 'P';
                frame[2] = 1;
                frame[3] = static_cast<char>(1 + rng() % 10);
            }
        } else {
            frame = wire::encode(valid[rng() % valid.size()]);
            for (int flips = 1 + static_cast<int>(rng() % 4); flips > 0; --flips)
                frame[rng() % frame.size()] ^= static_cast<char>(1 << (rng() % 8));
        }
        const auto result = wire::decode(frame, limit);
        REQUIRE(result.message.has_value() == (result.error == wire::decode_error::none));
        if (result.message) {
            ++accepted;
            // Whatever decodes must encode again without trouble.
            (void)wire::encode(*result.message);
        }
    }
    SUCCEED("accepted " << accepted << " mutated frames as well-formed");
}

TEST_CASE("a hello from before protocol 6 decodes without its frame limit, to be refused by version",
          "[codec][limits]") {
    hello old{5, "prod", node_spec{"s9", role::server, "tcp://h:1", "", "", 1, "", ""}, {}, 1u << 20};
    auto frame = wire::encode(old);
    frame.resize(frame.size() - sizeof(std::uint64_t));  // version 5 ended at the state
    const auto decoded = wire::decode(frame, limit);
    REQUIRE(decoded.message);
    const auto& h = std::get<hello>(*decoded.message);
    CHECK(h.protocol_version == 5);
    CHECK(h.max_message_bytes == 0);  // not said
}

TEST_CASE("a state is written as version 2 (specs with their public key) and an unknown version is refused",
          "[codec][curve]") {
    auto bytes = wire::encode_state(sample_state());
    REQUIRE(static_cast<unsigned char>(bytes[2]) == 2);
    bytes[2] = 9;
    CHECK_FALSE(wire::decode_state(bytes, limit));
}

TEST_CASE("a hello of another protocol version decodes to its version, for the refusal", "[codec]") {
    core::hello old;
    old.protocol_version = core::protocol_version - 1;
    old.cluster_name = "prod";
    auto frame = wire::encode(old);
    frame += "older layouts may carry anything after the version";
    const auto decoded = wire::decode(frame, limit);
    REQUIRE(decoded.message);
    CHECK(std::get<core::hello>(*decoded.message).protocol_version == core::protocol_version - 1);
}
