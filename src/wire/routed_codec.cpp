#include "wire/routed_codec.hpp"

#include <cstring>
#include <stdexcept>

#include "wire/codec.hpp"

namespace zpartisan::wire {

namespace {

// forward: header, hops, flags, kind, reserved, u32 lane, u64 id, u64 origin_incarnation.
constexpr std::size_t forward_fixed_bytes = 28;
// forward_ack: header, hops, status, 2 reserved, u64 id.
constexpr std::size_t ack_fixed_bytes = 16;
constexpr std::uint8_t ack_flag = 0x01;
constexpr std::uint8_t bundle_flag = 0x02;
// An acked forward's order fields follow reply_to (protocol 5). Every acked forward carries
// them and says so, so an acked forward of the older layout is refused, never misread.
constexpr std::uint8_t ordered_flag = 0x04;

struct malformed : std::runtime_error {
    using std::runtime_error::runtime_error;
};

void put_u16(char*& out, std::uint16_t v) {
    *out++ = static_cast<char>(v & 0xff);
    *out++ = static_cast<char>(v >> 8);
}

void put_uint(char* out, std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

std::uint64_t get_uint(const char* in, int bytes) {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
    return v;
}

void put_string(char*& out, std::string_view s) {
    put_u16(out, static_cast<std::uint16_t>(s.size()));
    std::memcpy(out, s.data(), s.size());
    out += s.size();
}

void put_header(char* out, core::message_type type) {
    out[0] = 'Z';
    out[1] = 'P';
    out[2] = static_cast<char>(envelope_version);
    out[3] = static_cast<char>(type);
}

// Reads the u16-length strings that follow the fixed part; every read is bounds-checked.
struct reader {
    std::string_view frame;
    std::size_t at;

    bool string(std::string_view& s) {
        if (frame.size() - at < 2) return false;
        const auto size = static_cast<std::size_t>(get_uint(frame.data() + at, 2));
        at += 2;
        if (frame.size() - at < size) return false;
        s = frame.substr(at, size);
        at += size;
        return true;
    }
    std::string_view take(const char* what) {
        std::string_view s;
        if (!string(s)) throw malformed(std::string("truncated ") + what);
        return s;
    }
};

bool has_type(std::string_view frame, core::message_type type, std::size_t fixed) {
    return frame.size() >= fixed && frame[0] == 'Z' && frame[1] == 'P' &&
           static_cast<std::uint8_t>(frame[2]) == envelope_version &&
           static_cast<std::uint8_t>(frame[3]) == static_cast<std::uint8_t>(type);
}

}  // namespace

forward_fields fields_of(const core::forward& m) {
    return {m.origin,       m.origin_incarnation,
            m.destination,  m.handler,
            m.kind,         m.channel,
            m.lane,         m.hops,
            m.id,           m.ack,
            m.reply_to,     m.payload,
            m.bundled > 0,  m.previous_id,
            m.settled_below};
}

bool encodable(const forward_fields& f) {
    for (auto s : {f.origin, f.destination, f.handler, f.channel, f.reply_to})
        if (s.size() > max_routed_string) return false;
    return true;
}

std::size_t encoded_size(const forward_fields& f) {
    return forward_fixed_bytes + 10 + f.destination.size() + f.channel.size() + f.origin.size() + f.handler.size() +
           f.reply_to.size() + (f.ack ? order_fields_bytes : 0) + f.payload.size();
}

void encode_into(const forward_fields& f, char* out) {
    put_header(out, core::message_type::forward);
    out[4] = static_cast<char>(f.hops);
    out[5] = static_cast<char>((f.ack ? ack_flag | ordered_flag : 0) | (f.bundled ? bundle_flag : 0));
    out[6] = static_cast<char>(f.kind);
    out[7] = 0;
    put_uint(out + 8, f.lane, 4);
    put_uint(out + 12, f.id, 8);
    put_uint(out + 20, f.origin_incarnation, 8);
    char* at = out + forward_fixed_bytes;
    // Destination and channel first: all a relay reads.
    put_string(at, f.destination);
    put_string(at, f.channel);
    put_string(at, f.origin);
    put_string(at, f.handler);
    put_string(at, f.reply_to);
    if (f.ack) {
        put_uint(at, f.previous_id, 8);
        put_uint(at + 8, f.settled_below, 8);
        at += order_fields_bytes;
    }
    if (!f.payload.empty()) std::memcpy(at, f.payload.data(), f.payload.size());
}

void start_bundle(const forward_fields& f, std::string& out) {
    auto head = f;
    head.payload = {};
    head.bundled = true;
    head.ack = false;
    out.resize(encoded_size(head));
    encode_into(head, out.data());
}

void append_bundle_entry(std::string& bundle, std::string_view payload) {
    char length[bundle_entry_overhead];
    put_uint(length, payload.size(), bundle_entry_overhead);
    bundle.append(length, bundle_entry_overhead).append(payload);
}

bool bundle_reader::next(std::string_view& entry) noexcept {
    if (_rest.size() < bundle_entry_overhead) return false;
    const auto size = get_uint(_rest.data(), bundle_entry_overhead);
    if (_rest.size() - bundle_entry_overhead < size) return false;
    entry = _rest.substr(bundle_entry_overhead, size);
    _rest.remove_prefix(bundle_entry_overhead + size);
    return true;
}

std::size_t bundle_entries(std::string_view bundle) noexcept {
    bundle_reader reader(bundle);
    std::size_t count = 0;
    std::string_view entry;
    while (reader.next(entry)) ++count;
    return reader.at_end() ? count : 0;
}

std::size_t encoded_size(const core::forward_ack& m) {
    return ack_fixed_bytes + 4 + m.destination.size() + m.origin.size();
}

void encode_into(const core::forward_ack& m, char* out) {
    put_header(out, core::message_type::forward_ack);
    out[4] = static_cast<char>(m.hops);
    out[5] = static_cast<char>(m.status);
    out[6] = 0;
    out[7] = 0;
    put_uint(out + 8, m.id, 8);
    char* at = out + ack_fixed_bytes;
    put_string(at, m.destination);
    put_string(at, m.origin);
}

std::optional<routed_header> peek_routed(std::string_view frame) noexcept {
    routed_header h;
    if (has_type(frame, core::message_type::forward, forward_fixed_bytes)) {
        reader r{frame, forward_fixed_bytes};
        if (!r.string(h.destination) || !r.string(h.channel)) return std::nullopt;
        h.lane = static_cast<std::uint32_t>(get_uint(frame.data() + 8, 4));
    } else if (has_type(frame, core::message_type::forward_ack, ack_fixed_bytes)) {
        reader r{frame, ack_fixed_bytes};
        if (!r.string(h.destination)) return std::nullopt;
        h.is_ack = true;
    } else {
        return std::nullopt;
    }
    h.hops = static_cast<std::uint8_t>(frame[hops_offset]);
    return h;
}

std::optional<forward_view> read_forward(std::string_view frame, const char** error) noexcept {
    auto fail = [&](const char* why) -> std::optional<forward_view> {
        if (error) *error = why;
        return std::nullopt;
    };
    if (frame.size() < forward_fixed_bytes) return fail("truncated fixed fields");
    if (!has_type(frame, core::message_type::forward, forward_fixed_bytes)) return fail("not a forward");
    forward_view v;
    auto& f = v.fields;
    f.hops = static_cast<std::uint8_t>(frame[4]);
    const auto flags = static_cast<std::uint8_t>(frame[5]);
    if (flags & ~(ack_flag | bundle_flag | ordered_flag)) return fail("unknown flags");
    f.ack = (flags & ack_flag) != 0;
    f.bundled = (flags & bundle_flag) != 0;
    const bool ordered = (flags & ordered_flag) != 0;
    if (f.ack && f.bundled) return fail("an acked bundle");
    if (ordered != f.ack)
        return fail(f.ack ? "an acked forward without order fields" : "order fields on a plain forward");
    const auto kind = static_cast<std::uint8_t>(frame[6]);
    if (kind < 1 || kind > 5) return fail("bad delivery kind");
    f.kind = static_cast<core::delivery_kind>(kind);
    if (frame[7] != 0) return fail("reserved byte set");
    f.lane = static_cast<std::uint32_t>(get_uint(frame.data() + 8, 4));
    f.id = get_uint(frame.data() + 12, 8);
    f.origin_incarnation = get_uint(frame.data() + 20, 8);
    reader r{frame, forward_fixed_bytes};
    if (!r.string(f.destination)) return fail("truncated destination");
    if (!r.string(f.channel)) return fail("truncated channel");
    if (!r.string(f.origin)) return fail("truncated origin");
    if (!r.string(f.handler)) return fail("truncated handler");
    if (!r.string(f.reply_to)) return fail("truncated reply_to");
    if (ordered) {
        if (frame.size() - r.at < order_fields_bytes) return fail("truncated order fields");
        f.previous_id = get_uint(frame.data() + r.at, 8);
        f.settled_below = get_uint(frame.data() + r.at + 8, 8);
        r.at += order_fields_bytes;
    }
    f.payload = frame.substr(r.at);
    if (f.bundled) {
        const auto entries = bundle_entries(f.payload);
        if (entries == 0 || entries > 0xffffffffu) return fail("broken bundle");
        v.bundled_entries = static_cast<std::uint32_t>(entries);
    }
    return v;
}

core::forward decode_forward(std::string_view frame) {
    const char* error = "";
    const auto v = read_forward(frame, &error);
    if (!v) throw malformed(error);
    const auto& f = v->fields;
    core::forward m;
    m.origin = f.origin;
    m.origin_incarnation = f.origin_incarnation;
    m.destination = f.destination;
    m.handler = f.handler;
    m.kind = f.kind;
    m.channel = f.channel;
    m.lane = f.lane;
    m.hops = f.hops;
    m.id = f.id;
    m.ack = f.ack;
    m.reply_to = f.reply_to;
    m.payload = f.payload;
    m.bundled = v->bundled_entries;
    m.previous_id = f.previous_id;
    m.settled_below = f.settled_below;
    return m;
}

core::forward_ack decode_forward_ack(std::string_view frame) {
    if (frame.size() < ack_fixed_bytes) throw malformed("truncated fixed fields");
    core::forward_ack m;
    m.hops = static_cast<std::uint8_t>(frame[4]);
    const auto status = static_cast<std::uint8_t>(frame[5]);
    if (status > 1) throw malformed("bad ack status");
    m.status = static_cast<core::ack_status>(status);
    if (frame[6] != 0 || frame[7] != 0) throw malformed("reserved byte set");
    m.id = get_uint(frame.data() + 8, 8);
    reader r{frame, ack_fixed_bytes};
    m.destination = r.take("destination");
    m.origin = r.take("origin");
    if (r.at != frame.size()) throw malformed("trailing bytes");
    return m;
}

}  // namespace zpartisan::wire
