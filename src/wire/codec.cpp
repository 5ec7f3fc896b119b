#include "wire/codec.hpp"

#include "wire/routed_codec.hpp"
#include "core/protocol_version.hpp"

#include <limits>
#include <cereal/archives/portable_binary.hpp>
#include <sstream>
#include <stdexcept>

namespace zpartisan::wire {

namespace {

// Thrown inside decoding only; decode() turns it into an error value.
struct malformed_input : std::runtime_error {
    using std::runtime_error::runtime_error;
};

using output_archive = cereal::PortableBinaryOutputArchive;
using input_archive = cereal::PortableBinaryInputArchive;

// Lengths and counts are checked against hard bounds before anything is allocated, so a
// forged size can neither exhaust memory nor make the decoder slow.
std::uint64_t load_count(input_archive& ar, std::size_t bound, const char* what) {
    std::uint64_t count = 0;
    ar(count);
    if (count > bound) throw malformed_input(std::string(what) + " count over limit");
    return count;
}

void save_string(output_archive& ar, const std::string& text) {
    ar(static_cast<std::uint64_t>(text.size()));
    ar(cereal::binary_data(text.data(), text.size()));
}

void load_string(input_archive& ar, std::string& text) {
    const auto size = load_count(ar, max_string_bytes, "string");
    text.resize(static_cast<std::size_t>(size));
    ar(cereal::binary_data(text.data(), text.size()));
}

void save_spec(output_archive& ar, const node_spec& spec) {
    save_string(ar, spec.name);
    ar(static_cast<std::uint8_t>(spec.role));
    save_string(ar, spec.router_endpoint);
    save_string(ar, spec.pub_endpoint);
    save_string(ar, spec.home_server);
    ar(spec.incarnation);
    save_string(ar, spec.tag);
    save_string(ar, spec.public_key);
}

// with_key: false for a state written before protocol 6 (state version 1), whose specs end at
// the tag.
void load_spec(input_archive& ar, node_spec& spec, bool with_key = true) {
    load_string(ar, spec.name);
    std::uint8_t role_byte = 0;
    ar(role_byte);
    spec.role = static_cast<role>(role_byte);  // validated by the core, not trusted here
    load_string(ar, spec.router_endpoint);
    load_string(ar, spec.pub_endpoint);
    load_string(ar, spec.home_server);
    ar(spec.incarnation);
    load_string(ar, spec.tag);
    if (with_key) load_string(ar, spec.public_key);
}

void save_context(output_archive& ar, const core::dot_context& context) {
    ar(static_cast<std::uint64_t>(context.actors().size()));
    for (const auto& [actor, intervals] : context.actors()) {
        save_string(ar, actor);
        ar(static_cast<std::uint64_t>(intervals.ranges().size()));
        for (const auto& [first, last] : intervals.ranges()) ar(first, last);
    }
}

void load_context(input_archive& ar, core::dot_context& context) {
    const auto actors = load_count(ar, max_collection_items, "actor");
    for (std::uint64_t i = 0; i < actors; ++i) {
        std::string actor;
        load_string(ar, actor);
        const auto ranges = load_count(ar, max_collection_items, "interval");
        core::interval_set set;
        std::uint64_t previous_last = 0;
        for (std::uint64_t r = 0; r < ranges; ++r) {
            std::uint64_t first = 0, last = 0;
            ar(first, last);
            // Counters start at 1 and never reach the largest value. Ranges come as the sender
            // holds them (ascending, apart): each is then appended in constant time, where an
            // unsorted list could cost a quadratic merge.
            if (first == 0 || first > last || last == std::numeric_limits<std::uint64_t>::max())
                throw malformed_input("bad interval");
            if (r > 0 && first <= previous_last + 1) throw malformed_input("intervals not ascending and apart");
            previous_last = last;
            set.insert({first, last});
        }
        if (!set.empty()) context.actors()[actor].merge(set);
    }
}

void save_state(output_archive& ar, const core::membership_state& state) {
    ar(static_cast<std::uint64_t>(state.entries.size()));
    for (const auto& [d, spec] : state.entries) {
        save_string(ar, d.actor);
        ar(d.counter);
        save_spec(ar, *spec);
    }
    save_context(ar, state.context);
}

void load_state(input_archive& ar, core::membership_state& state, bool with_keys = true) {
    const auto entries = load_count(ar, max_collection_items, "entry");
    for (std::uint64_t i = 0; i < entries; ++i) {
        core::dot d;
        load_string(ar, d.actor);
        ar(d.counter);
        node_spec spec;
        load_spec(ar, spec, with_keys);
        state.entries.insert_or_assign(std::move(d), core::shared_spec(std::move(spec)));
    }
    load_context(ar, state.context);
    // The CRDT's invariant: every entry's dot is in the context. A state breaking it would
    // make joins non-idempotent, so it is rejected rather than repaired.
    for (const auto& [d, spec] : state.entries)
        if (!state.context.contains(d)) throw malformed_input("entry dot outside its context");
}

void save_strings(output_archive& ar, const std::vector<std::string>& items) {
    ar(static_cast<std::uint64_t>(items.size()));
    for (const auto& item : items) save_string(ar, item);
}

void load_strings(input_archive& ar, std::vector<std::string>& items) {
    const auto count = load_count(ar, max_collection_items, "string list");
    for (std::uint64_t i = 0; i < count; ++i) load_string(ar, items.emplace_back());
}

struct body_saver {
    output_archive& ar;
    void operator()(const core::hello& m) const {
        ar(m.protocol_version);
        save_string(ar, m.cluster_name);
        save_spec(ar, m.spec);
        save_state(ar, m.state);
        ar(m.max_message_bytes);
    }
    void operator()(const core::welcome& m) const {
        save_spec(ar, m.spec);
        save_state(ar, m.state);
        ar(m.publisher_seq);
        ar(m.max_message_bytes);
    }
    void operator()(const core::referral& m) const {
        save_string(ar, m.reason);
        save_string(ar, m.home_server);
        save_strings(ar, m.server_endpoints);
        save_strings(ar, m.server_keys);
    }
    void operator()(const core::refusal& m) const {
        ar(static_cast<std::uint8_t>(m.reason));
        save_string(ar, m.detail);
    }
    void operator()(const core::delta& m) const {
        save_string(ar, m.origin);
        ar(m.seq);
        save_state(ar, m.state);
    }
    void operator()(const core::digest& m) const {
        save_string(ar, m.origin);
        save_context(ar, m.seen.context);  // empty when not full
        save_context(ar, m.seen.live);
        ar(m.fingerprint, static_cast<std::uint8_t>(m.full ? 1 : 0));
    }
    void operator()(const core::beacon& m) const {
        save_string(ar, m.origin);
        ar(m.seq, m.free_client_slots);
    }
    void operator()(const core::partition_request& m) const {
        save_string(ar, m.ref);
        save_string(ar, m.target);
        ar(m.ttl);
        save_string(ar, m.requester);
    }
    void operator()(const core::partition_applied& m) const {
        save_string(ar, m.ref);
        save_string(ar, m.requester);
        save_string(ar, m.origin);
    }
    void operator()(const core::partition_resolve& m) const { save_string(ar, m.ref); }
    // Routed messages never reach an archive: encode() writes them with routed_codec.
    void operator()(const core::forward&) const {}
    void operator()(const core::forward_ack&) const {}
    void operator()(const core::partition_groups& m) const {
        save_string(ar, m.ref);
        ar(static_cast<std::uint64_t>(m.groups.size()));
        for (const auto& group : m.groups) save_strings(ar, group);
    }
    void operator()(const core::heartbeat& m) const { save_string(ar, m.origin); }
    void operator()(const core::liveness& m) const {
        save_string(ar, m.origin);
        save_string(ar, m.subject);
        ar(static_cast<std::uint8_t>(m.reachable), m.silent_ms, m.missed_heartbeats,
           static_cast<std::uint8_t>(m.connection_lost));
    }
    void operator()(const core::sync_delta& m) const {
        save_string(ar, m.origin);
        ar(m.publisher_seq);
        save_state(ar, m.state);
    }
};

// `in` is the archive's stream: a field appended by a later protocol version is read only
// when bytes remain, so an older peer's hello still decodes and is refused with a refusal
// naming both versions rather than dropped as malformed.
core::message load_body(input_archive& ar, std::istream& in, core::message_type type) {
    const auto more = [&in] { return in.peek() != std::char_traits<char>::eof(); };
    switch (type) {
        case core::message_type::hello: {
            core::hello m;
            ar(m.protocol_version);
            // Another version's body may be laid out differently: the version alone is
            // enough for the refusal that names both (docs/protocol.md §6).
            if (m.protocol_version != core::protocol_version) return m;
            load_string(ar, m.cluster_name);
            load_spec(ar, m.spec);
            load_state(ar, m.state);
            if (more()) ar(m.max_message_bytes);
            return m;
        }
        case core::message_type::welcome: {
            core::welcome m;
            load_spec(ar, m.spec);
            load_state(ar, m.state);
            ar(m.publisher_seq);
            if (more()) ar(m.max_message_bytes);
            return m;
        }
        case core::message_type::referral: {
            core::referral m;
            load_string(ar, m.reason);
            load_string(ar, m.home_server);
            load_strings(ar, m.server_endpoints);
            load_strings(ar, m.server_keys);
            return m;
        }
        case core::message_type::refusal: {
            core::refusal m;
            std::uint8_t reason = 0;
            ar(reason);
            m.reason = static_cast<core::refusal_reason>(reason);
            load_string(ar, m.detail);
            return m;
        }
        case core::message_type::delta: {
            core::delta m;
            load_string(ar, m.origin);
            ar(m.seq);
            load_state(ar, m.state);
            return m;
        }
        case core::message_type::digest: {
            core::digest m;
            load_string(ar, m.origin);
            load_context(ar, m.seen.context);
            load_context(ar, m.seen.live);
            std::uint8_t full = 0;
            ar(m.fingerprint, full);
            if (full > 1) throw malformed_input("bad flag");
            m.full = full == 1;
            return m;
        }
        case core::message_type::sync_delta: {
            core::sync_delta m;
            load_string(ar, m.origin);
            ar(m.publisher_seq);
            load_state(ar, m.state);
            return m;
        }
        case core::message_type::beacon: {
            core::beacon m;
            load_string(ar, m.origin);
            ar(m.seq, m.free_client_slots);
            return m;
        }
        case core::message_type::partition_request: {
            core::partition_request m;
            load_string(ar, m.ref);
            load_string(ar, m.target);
            ar(m.ttl);
            load_string(ar, m.requester);
            return m;
        }
        case core::message_type::partition_applied: {
            core::partition_applied m;
            load_string(ar, m.ref);
            load_string(ar, m.requester);
            load_string(ar, m.origin);
            return m;
        }
        case core::message_type::partition_resolve: {
            core::partition_resolve m;
            load_string(ar, m.ref);
            return m;
        }
        case core::message_type::forward:
        case core::message_type::forward_ack:
            break;  // routed_codec.cpp: decoded before any archive exists
        case core::message_type::partition_groups: {
            core::partition_groups m;
            load_string(ar, m.ref);
            const auto groups = load_count(ar, max_collection_items, "group");
            for (std::uint64_t i = 0; i < groups; ++i) load_strings(ar, m.groups.emplace_back());
            return m;
        }
        case core::message_type::heartbeat: {
            core::heartbeat m;
            load_string(ar, m.origin);
            return m;
        }
        case core::message_type::liveness: {
            core::liveness m;
            load_string(ar, m.origin);
            load_string(ar, m.subject);
            std::uint8_t reachable = 0, lost = 0;
            ar(reachable, m.silent_ms, m.missed_heartbeats, lost);
            if (reachable > 1 || lost > 1) throw malformed_input("bad flag");
            m.reachable = reachable == 1;
            m.connection_lost = lost == 1;
            return m;
        }
    }
    throw malformed_input("unknown type");
}

bool known_type(std::uint8_t type) {
    return type >= static_cast<std::uint8_t>(core::message_type::hello) &&
           type <= static_cast<std::uint8_t>(core::message_type::partition_applied);
}

// A read-only streambuf over the frame, so decoding copies nothing up front.
struct view_buffer : std::streambuf {
    explicit view_buffer(std::string_view bytes) {
        auto* begin = const_cast<char*>(bytes.data());
        setg(begin, begin, begin + bytes.size());
    }
};

// Appends straight into the frame being built: no stringstream buffer and copy per message.
struct string_sink : std::streambuf {
    std::string& out;
    explicit string_sink(std::string& target) : out(target) {}
    std::streamsize xsputn(const char* bytes, std::streamsize count) override {
        out.append(bytes, static_cast<std::size_t>(count));
        return count;
    }
    int_type overflow(int_type c) override {
        if (c != traits_type::eof()) out.push_back(static_cast<char>(c));
        return c;
    }
};

constexpr char state_magic[2] = {'Z', 'S'};
// 2: specs carry their public key (protocol 6); 1 is still read, its specs without one.
constexpr std::uint8_t state_version = 2;

}  // namespace

const char* describe(decode_error error) {
    switch (error) {
        case decode_error::none:
            return "none";
        case decode_error::too_short:
            return "frame shorter than the header";
        case decode_error::too_large:
            return "frame over the size limit";
        case decode_error::bad_magic:
            return "not a zpartisan frame";
        case decode_error::unsupported_envelope_version:
            return "unsupported envelope version";
        case decode_error::unknown_type:
            return "unknown message type";
        case decode_error::malformed:
            return "malformed body";
    }
    return "unknown error";
}

std::string encode(const core::message& message) {
    std::string frame;
    if (const auto* data = std::get_if<core::forward>(&message)) {
        const auto fields = fields_of(*data);
        if (!encodable(fields)) throw std::invalid_argument("forward: a name is longer than 65535 bytes");
        frame.resize(encoded_size(fields));
        encode_into(fields, frame.data());
        return frame;
    }
    if (const auto* ack = std::get_if<core::forward_ack>(&message)) {
        frame.resize(encoded_size(*ack));
        encode_into(*ack, frame.data());
        return frame;
    }
    frame.reserve(128);
    frame.push_back('Z');
    frame.push_back('P');
    frame.push_back(static_cast<char>(envelope_version));
    frame.push_back(static_cast<char>(core::type_of(message)));
    string_sink sink(frame);
    std::ostream out(&sink);
    {
        output_archive ar(out);
        std::visit(body_saver{ar}, message);
    }
    return frame;
}

decode_result decode(std::string_view frame, std::size_t max_frame_bytes) noexcept {
    decode_result result;
    try {
        if (frame.size() > max_frame_bytes) {
            result.error = decode_error::too_large;
            return result;
        }
        if (frame.size() < header_bytes) {
            result.error = decode_error::too_short;
            return result;
        }
        if (frame[0] != 'Z' || frame[1] != 'P') {
            result.error = decode_error::bad_magic;
            return result;
        }
        if (static_cast<std::uint8_t>(frame[2]) != envelope_version) {
            result.error = decode_error::unsupported_envelope_version;
            result.detail = "envelope version " + std::to_string(static_cast<std::uint8_t>(frame[2]));
            return result;
        }
        result.type_byte = static_cast<std::uint8_t>(frame[3]);
        if (!known_type(result.type_byte)) {
            result.error = decode_error::unknown_type;
            result.detail = "type " + std::to_string(result.type_byte);
            return result;
        }
        const auto type = static_cast<core::message_type>(result.type_byte);
        if (type == core::message_type::forward) {
            result.message = decode_forward(frame);
            return result;
        }
        if (type == core::message_type::forward_ack) {
            result.message = decode_forward_ack(frame);
            return result;
        }
        view_buffer buffer(frame.substr(header_bytes));
        std::istream in(&buffer);
        input_archive ar(in);
        auto message = load_body(ar, in, static_cast<core::message_type>(result.type_byte));
        const auto* hello = std::get_if<core::hello>(&message);
        const bool foreign_hello = hello && hello->protocol_version != core::protocol_version;
        if (!foreign_hello && in.peek() != std::char_traits<char>::eof()) throw malformed_input("trailing bytes");
        result.message = std::move(message);
    } catch (const std::exception& e) {
        result.message.reset();
        result.error = decode_error::malformed;
        try {
            result.detail = e.what();
        } catch (...) {}
    } catch (...) {
        result.message.reset();
        result.error = decode_error::malformed;
    }
    return result;
}

std::string encode_state(const core::membership_state& state) {
    std::ostringstream out;
    out.write(state_magic, 2);
    out.put(static_cast<char>(state_version));
    {
        output_archive ar(out);
        save_state(ar, state);
    }
    return std::move(out).str();
}

std::optional<core::membership_state> decode_state(std::string_view bytes, std::size_t max_bytes) noexcept {
    try {
        if (bytes.size() > max_bytes || bytes.size() < 3 || bytes[0] != state_magic[0] || bytes[1] != state_magic[1])
            return std::nullopt;
        const auto version = static_cast<std::uint8_t>(bytes[2]);
        if (version != 1 && version != state_version) return std::nullopt;
        view_buffer buffer(bytes.substr(3));
        std::istream in(&buffer);
        input_archive ar(in);
        core::membership_state state;
        load_state(ar, state, version == state_version);
        if (in.peek() != std::char_traits<char>::eof()) return std::nullopt;
        return state;
    } catch (...) {
        return std::nullopt;
    }
}

}  // namespace zpartisan::wire
