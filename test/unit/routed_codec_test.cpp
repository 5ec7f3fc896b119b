// The compact forward and forward_ack layout: round trips, the in-place header a relay reads
// and bumps, and garbage, truncated and forged frames rejected as error values.
#include <catch2/catch.hpp>
#include <random>

#include "wire/codec.hpp"
#include "wire/routed_codec.hpp"

using namespace zpartisan;
using namespace zpartisan::core;

namespace {

constexpr std::size_t limit = 1 << 20;

forward sample_forward() {
    return forward{"c1", 77, "c3", "orders", delivery_kind::call, "bulk",
                   5,    1,  4242, true,     "zp.ref.9@c1",       std::string("pay\0load", 8)};
}

// Every field of sample_forward(), as decoded (core::forward) or read in place (views).
template <class Forward>
void check_sample_fields(const Forward& f) {
    CHECK(f.origin == "c1");
    CHECK(f.origin_incarnation == 77);
    CHECK(f.destination == "c3");
    CHECK(f.handler == "orders");
    CHECK(f.kind == delivery_kind::call);
    CHECK(f.channel == "bulk");
    CHECK(f.lane == 5);
    CHECK(f.hops == 1);
    CHECK(f.id == 4242);
    CHECK(f.ack);
    CHECK(f.reply_to == "zp.ref.9@c1");
    CHECK(f.payload == std::string("pay\0load", 8));
}

}  // namespace

TEST_CASE("forward and forward_ack round-trip every field", "[codec][routed]") {
    const auto original = sample_forward();
    const auto decoded = wire::decode(wire::encode(original), limit);
    REQUIRE(decoded.message);
    check_sample_fields(std::get<forward>(*decoded.message));

    const forward_ack ack{"c3", "c1", 4242, ack_status::unknown_handler, 2};
    const auto back = wire::decode(wire::encode(ack), limit);
    REQUIRE(back.message);
    const auto& a = std::get<forward_ack>(*back.message);
    CHECK(a.origin == "c3");
    CHECK(a.destination == "c1");
    CHECK(a.id == 4242);
    CHECK(a.status == ack_status::unknown_handler);
    CHECK(a.hops == 2);

    forward empty;
    empty.origin = "s1";
    empty.destination = "s2";
    empty.kind = delivery_kind::send;
    const auto e = wire::decode(wire::encode(empty), limit);
    REQUIRE(e.message);
    CHECK(std::get<forward>(*e.message).payload.empty());
}

TEST_CASE("an acked forward carries its order fields after reply_to, and a plain one does not",
          "[codec][routed][order]") {
    auto acked = sample_forward();
    acked.previous_id = 4241;
    acked.settled_below = 4000;
    const auto frame = wire::encode(acked);
    CHECK(frame.size() == wire::encode(sample_forward()).size());  // always there when acked
    const auto decoded = wire::decode(frame, limit);
    REQUIRE(decoded.message);
    const auto& back = std::get<forward>(*decoded.message);
    check_sample_fields(back);
    CHECK(back.previous_id == 4241);
    CHECK(back.settled_below == 4000);
    // Between reply_to and the payload, little-endian: 4241 = 0x1091.
    const auto at = frame.size() - acked.payload.size() - wire::order_fields_bytes;
    CHECK(frame.substr(at, 2) == std::string("\x91\x10", 2));
    CHECK(frame[5] == '\x05');  // ack | ordered

    auto plain = sample_forward();
    plain.ack = false;
    CHECK(wire::encoded_size(wire::fields_of(plain)) + wire::order_fields_bytes ==
          wire::encoded_size(wire::fields_of(acked)));

    // Order fields without the ack, or an ack without them (the layout before protocol 5):
    // refused, never misread.
    const char* why = nullptr;
    auto forged = frame;
    forged[5] = '\x04';
    CHECK_FALSE(wire::read_forward(forged, &why));
    CHECK(std::string(why) == "order fields on a plain forward");
    forged[5] = '\x01';
    CHECK_FALSE(wire::read_forward(forged, &why));
    CHECK(std::string(why) == "an acked forward without order fields");
    CHECK(wire::decode(forged, limit).error == wire::decode_error::malformed);
    // Cut short inside the order fields.
    const auto cut = std::string_view(frame).substr(0, at + 15);
    CHECK_FALSE(wire::read_forward(cut, &why));
    CHECK(std::string(why) == "truncated order fields");
}

TEST_CASE("a relay reads the header in place and bumps hops without decoding", "[codec][routed]") {
    auto frame = wire::encode(sample_forward());
    auto header = wire::peek_routed(frame);
    REQUIRE(header);
    CHECK_FALSE(header->is_ack);
    CHECK(header->destination == "c3");
    CHECK(header->channel == "bulk");
    CHECK(header->lane == 5);
    CHECK(header->hops == 1);
    frame[wire::hops_offset] = static_cast<char>(header->hops + 1);
    const auto decoded = wire::decode(frame, limit);
    REQUIRE(decoded.message);
    CHECK(std::get<forward>(*decoded.message).hops == 2);
    CHECK(std::get<forward>(*decoded.message).payload == sample_forward().payload);

    const auto ack_frame = wire::encode(forward_ack{"c3", "c1", 1, ack_status::delivered, 0});
    const auto ack = wire::peek_routed(ack_frame);
    REQUIRE(ack);
    CHECK(ack->is_ack);
    CHECK(ack->destination == "c1");

    const auto heartbeat_frame = wire::encode(heartbeat{"s1"});
    CHECK_FALSE(wire::peek_routed(heartbeat_frame));
    CHECK_FALSE(wire::peek_routed(std::string_view{}));
}

TEST_CASE("the application's encoder writes the same bytes as the core's", "[codec][routed]") {
    const auto original = sample_forward();
    const auto fields = wire::fields_of(original);
    std::string direct(wire::encoded_size(fields), '\0');
    wire::encode_into(fields, direct.data());
    CHECK(direct == wire::encode(original));
}

TEST_CASE("over-long names cannot be encoded", "[codec][routed]") {
    auto f = sample_forward();
    f.handler.assign(wire::max_routed_string + 1, 'h');
    CHECK_FALSE(wire::encodable(wire::fields_of(f)));
    CHECK_THROWS(wire::encode(f));
    f.handler.assign(wire::max_routed_string, 'h');
    CHECK(wire::encodable(wire::fields_of(f)));
    CHECK(wire::decode(wire::encode(f), limit).message);
}

TEST_CASE("truncated, forged and garbage routed frames are errors, never crashes", "[codec][routed]") {
    const auto frame = wire::encode(sample_forward());
    // A forward's payload runs to the end, so a cut inside the payload is a shorter payload;
    // every cut inside the header or the names must be rejected.
    const auto names_end = frame.size() - sample_forward().payload.size();
    for (std::size_t cut = 0; cut < names_end; ++cut) {
        CAPTURE(cut);
        const auto view = std::string_view(frame).substr(0, cut);
        CHECK_FALSE(wire::decode(view, limit).message);
        // The fixed part, destination "c3" and channel "bulk" end at byte 38.
        if (cut < 38) CHECK_FALSE(wire::peek_routed(view));
    }
    const auto ack = wire::encode(forward_ack{"c3", "c1", 1, ack_status::delivered, 0});
    for (std::size_t cut = 0; cut < ack.size(); ++cut) CHECK_FALSE(wire::decode(ack.substr(0, cut), limit).message);
    CHECK_FALSE(wire::decode(ack + "x", limit).message);  // trailing bytes

    auto forged = frame;
    forged[5] = '\x80';  // unknown flag
    CHECK(wire::decode(forged, limit).error == wire::decode_error::malformed);
    forged = frame;
    forged[6] = '\x09';  // no such delivery kind
    CHECK(wire::decode(forged, limit).error == wire::decode_error::malformed);
    forged = frame;
    forged[28] = '\xff';  // destination length past the end
    forged[29] = '\xff';
    CHECK_FALSE(wire::decode(forged, limit).message);
    CHECK_FALSE(wire::peek_routed(forged));

    std::mt19937 rng(11);
    for (int i = 0; i < 20000; ++i) {
        std::string garbage = i % 2 ? frame : ack;
        const auto flips = 1 + rng() % 4;
        for (unsigned f = 0; f < flips; ++f) garbage[rng() % garbage.size()] = static_cast<char>(rng());
        if (i % 7 == 0) garbage.resize(rng() % garbage.size());
        const auto peeked = wire::peek_routed(garbage);
        if (peeked) CHECK(peeked->destination.size() <= garbage.size());
        const auto decoded = wire::decode(garbage, limit);
        if (decoded.message) (void)wire::encode(*decoded.message);
        // Reading in place accepts exactly the forwards decode() accepts, with the same fields.
        const auto* as_forward = decoded.message ? std::get_if<forward>(&*decoded.message) : nullptr;
        const auto read = wire::read_forward(garbage);
        REQUIRE(read.has_value() == (as_forward != nullptr));
        if (read) CHECK(wire::encode(*as_forward) == garbage);
    }
}

TEST_CASE("a forward read in place carries what decode() gives, as views into its frame", "[codec][routed]") {
    const auto frame = wire::encode(sample_forward());
    const auto read = wire::read_forward(frame);
    REQUIRE(read);
    const auto& f = read->fields;
    check_sample_fields(f);
    CHECK_FALSE(f.bundled);
    CHECK(read->bundled_entries == 0);
    CHECK(f.payload.data() >= frame.data());  // a view, not a copy
    CHECK(f.payload.data() + f.payload.size() == frame.data() + frame.size());

    const char* why = nullptr;
    const auto ack_frame = wire::encode(forward_ack{"node-with-a-long-name", "c1", 1, ack_status::delivered, 0});
    CHECK_FALSE(wire::read_forward(ack_frame, &why));
    CHECK(std::string(why) == "not a forward");
    auto forged = frame;
    forged[7] = '\x01';
    CHECK_FALSE(wire::read_forward(forged, &why));
    CHECK(std::string(why) == "reserved byte set");
}

namespace {

// A bundle of three payloads (one empty, one binary) as the sending thread builds it.
std::string sample_bundle() {
    auto head = sample_forward();
    head.ack = false;
    head.reply_to.clear();
    std::string bundle;
    wire::start_bundle(wire::fields_of(head), bundle);
    wire::append_bundle_entry(bundle, "first");
    wire::append_bundle_entry(bundle, "");
    wire::append_bundle_entry(bundle, std::string("bi\0nary", 7));
    return bundle;
}

}  // namespace

TEST_CASE("a bundle carries several payloads in one forward, in order", "[codec][routed][bundle]") {
    const auto frame = sample_bundle();
    const auto peeked = wire::peek_routed(frame);  // relays forward a bundle like any forward
    REQUIRE(peeked);
    CHECK(peeked->destination == "c3");
    CHECK(peeked->channel == "bulk");

    const auto decoded = wire::decode(frame, limit);
    REQUIRE(decoded.message);
    const auto& f = std::get<forward>(*decoded.message);
    CHECK(f.bundled == 3);
    CHECK_FALSE(f.ack);
    CHECK(f.handler == "orders");
    wire::bundle_reader entries(f.payload);
    std::vector<std::string> payloads;
    std::string_view entry;
    while (entries.next(entry)) payloads.emplace_back(entry);
    CHECK(entries.at_end());
    CHECK(payloads == std::vector<std::string>{"first", "", std::string("bi\0nary", 7)});
    CHECK(wire::encode(f) == frame);  // re-encoding keeps the flag and the framing
    const auto read = wire::read_forward(frame);
    REQUIRE(read);
    CHECK(read->fields.bundled);
    CHECK(read->bundled_entries == 3);
    CHECK(read->fields.payload == f.payload);
}

TEST_CASE("broken bundles are rejected as malformed", "[codec][routed][bundle]") {
    const auto frame = sample_bundle();
    // Every cut that ends inside an entry breaks the framing; cuts between entries are
    // shorter bundles, and a cut before the first entry leaves an empty one.
    const auto head_size = frame.size() - (4 + 5) - 4 - (4 + 7);
    for (std::size_t cut = head_size; cut < frame.size(); ++cut) {
        CAPTURE(cut);
        const bool between_entries = cut == head_size + 9 || cut == head_size + 13;
        CHECK(static_cast<bool>(wire::decode(std::string_view(frame).substr(0, cut), limit).message) ==
              between_entries);
    }
    CHECK_FALSE(wire::decode(frame + "x", limit).message);  // trailing bytes after the last entry
    auto forged = frame;
    forged[5] = '\x03';  // acked and bundled: never sent, so never accepted
    CHECK(wire::decode(forged, limit).error == wire::decode_error::malformed);
    forged = frame;
    forged[head_size] = '\xff';  // the first entry's length runs past the end
    CHECK(wire::decode(forged, limit).error == wire::decode_error::malformed);
    CHECK(wire::bundle_entries("") == 0);
    CHECK(wire::bundle_entries(std::string("\x01\x00\x00", 3)) == 0);

    std::mt19937 rng(29);
    for (int i = 0; i < 20000; ++i) {
        auto garbage = frame;
        const auto flips = 1 + rng() % 4;
        for (unsigned n = 0; n < flips; ++n) garbage[rng() % garbage.size()] = static_cast<char>(rng());
        if (i % 5 == 0) garbage.resize(rng() % garbage.size());
        const auto decoded = wire::decode(garbage, limit);
        if (!decoded.message) continue;
        if (const auto* f = std::get_if<forward>(&*decoded.message); f && f->bundled)
            CHECK(wire::bundle_entries(f->payload) == f->bundled);  // what is accepted reads whole
    }
}
