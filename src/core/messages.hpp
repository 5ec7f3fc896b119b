// The protocol's messages as plain structs, one per type id of docs/protocol.md.
// Type ids are append-only: never renumber, never reuse. Pure data: no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "core/membership_set.hpp"
#include "core/protocol_version.hpp"
#include "zpartisan/node_spec.hpp"

namespace zpartisan::core {

enum class message_type : std::uint8_t {
    hello = 1,
    welcome = 2,
    referral = 3,
    refusal = 4,
    delta = 5,
    digest = 6,
    sync_delta = 7,
    beacon = 8,
    heartbeat = 9,
    liveness = 10,
    partition_request = 11,
    partition_resolve = 12,
    partition_groups = 13,
    forward = 14,
    forward_ack = 15,
    partition_applied = 16,
};

// Opens every connection (docs/protocol.md §2). spec.role may hold any byte on the wire:
// the receiver refuses a missing or unknown role instead of trusting it.
struct hello {
    std::uint32_t protocol_version = 0;
    std::string cluster_name;
    node_spec spec;
    membership_state state;  // the joiner's view: joining merges both sides
    // The largest frame the sender takes (its max_message_bytes; protocol 6, 0 before), so
    // the receiver refuses too_large at its send rather than this node dropping the frame.
    std::uint64_t max_message_bytes = 0;
};

// A server accepted the hello: here is the whole membership and my publisher sequence, so
// the next delta on my PUB tells you whether you missed any.
struct welcome {
    node_spec spec;
    membership_state state;
    std::uint64_t publisher_seq = 0;
    std::uint64_t max_message_bytes = 0;  // as in hello (protocol 6)
};

// "Not me, go there": a client answering a client (or a server dialing it), or a full server.
struct referral {
    std::string reason;
    std::string home_server;                    // the server to attach to
    std::vector<std::string> server_endpoints;  // home first, then the other known servers
    std::vector<std::string> server_keys;       // protocol 6: their CurveZMQ keys, in the same order
};

enum class refusal_reason : std::uint8_t {
    wrong_cluster = 1,
    unsupported_version = 2,
    bad_role = 3,
    bad_spec = 4,
    not_a_member = 5,    // the node is stopping or was removed
    too_many_peers = 6,  // the server holds its max_peers already (protocol 6)
};

struct refusal {
    refusal_reason reason = refusal_reason::bad_spec;
    std::string detail;
};

// A membership change. Published by servers on PUB with their own sequence number; sent by
// clients to their home server on the DEALER (seq unused there).
struct delta {
    std::string origin;  // the publishing (or sending) node
    std::uint64_t seq = 0;
    membership_state state;
};

// Anti-entropy request, "this is what I have seen, send me what I miss" (docs/protocol.md §4).
// A periodic round sends only the fingerprint (full is false, seen empty): a receiver whose own
// fingerprint matches is in step and answers nothing, so a quiet cluster's gossip costs a few
// bytes; one that differs answers with its full digest.
struct digest {
    std::string origin;
    membership_digest seen;
    std::uint64_t fingerprint = 0;  // fingerprint_of(seen) at the sender
    bool full = true;
};

// Answer to a digest; publisher_seq resets the requester's gap tracking for the sender.
struct sync_delta {
    std::string origin;
    std::uint64_t publisher_seq = 0;
    membership_state state;
};

// Published by servers every heartbeat interval on each stream: the stream's current
// sequence number, so a subscriber notices a lost *last* delta (zguide Clone's HUGZ).
struct beacon {
    std::string origin;
    std::uint64_t seq = 0;
    std::uint32_t free_client_slots = 0;  // capacity for new clients; unlimited_slots if none set
};

inline constexpr std::uint32_t unlimited_slots = 0xffffffffu;

// Sent every heartbeat interval to each direct peer (server<->server, client<->home).
// Any message counts as a heartbeat; this one exists for idle links.
struct heartbeat {
    std::string origin;
};

// A server's word on a node it watches directly (its clients, the other servers): reached
// or lost, with the evidence. Published on both streams and sent to each new joiner.
struct liveness {
    std::string origin;  // the announcing server, the one that detected it
    std::string subject;
    bool reachable = true;
    std::uint64_t silent_ms = 0;  // how long the subject had been silent when lost
    std::uint32_t missed_heartbeats = 0;
    bool connection_lost = false;
};

// Fault injection (docs/protocol.md §6, partisan's HyParView semantics): `target` cuts itself off
// from every peer it is connected to under `ref`; with ttl > 0 it first passes the request
// on to each of them with ttl - 1. Nodes between the requester and the target relay it.
// A request the API made names its `requester`, which the target answers with
// partition_applied; the copies a cut spreads name none.
struct partition_request {
    std::string ref;
    std::string target;
    std::uint32_t ttl = 0;
    std::string requester;
};

// The target of a partition_request holds the cut: routed back to the requester like the
// request came, so its call can answer ok only for a cut that took effect.
struct partition_applied {
    std::string ref;
    std::string requester;
    std::string origin;  // the node that holds the cut
};

// Heals `ref` wherever it spread; flooded to direct peers by every node that held it.
struct partition_resolve {
    std::string ref;
};

// Cuts the cluster into named groups: a listed node drops all traffic with listed nodes of
// other groups. Flooded to every node, which then filters on its own.
struct partition_groups {
    std::string ref;
    std::vector<std::vector<std::string>> groups;
};

// How an application message is to be handled (docs/protocol.md §7).
enum class delivery_kind : std::uint8_t { send = 1, forward = 2, cast = 3, call = 4, reply = 5 };

// An application message on its way to `destination`, directly or through at most
// max_hops relays (client -> home server -> the destination's home server -> client).
struct forward {
    std::string origin;
    std::uint64_t origin_incarnation = 0;  // with id: the receiver's duplicate filter key
    std::string destination;
    std::string handler;  // a registered name, or a one-off reference for replies
    delivery_kind kind = delivery_kind::forward;
    std::string channel;
    std::uint32_t lane = 0;  // which of the channel's connections (partition key)
    std::uint8_t hops = 0;
    std::uint64_t id = 0;  // acked only: per origin, incarnation and destination, one after another
    bool ack = false;
    std::string reply_to;  // calls: the reference to answer, "ref@node"
    std::string payload;
    // > 0: payload is a bundle of this many payloads (wire/routed_codec.hpp, bundles).
    std::uint32_t bundled = 0;
    // Acked only, for the receiver to hand them over in send order (docs/protocol.md §7, Order):
    // the id of the acked message this origin incarnation sent before it to the same
    // destination on the same channel and lane (0: none), and the id below which the origin
    // settled every message to that destination (acked, or given up on at its deadline; 0:
    // no order information, the message is handed over as it comes).
    std::uint64_t previous_id = 0;
    std::uint64_t settled_below = 0;
};

inline constexpr std::uint8_t max_hops = 3;

enum class ack_status : std::uint8_t { delivered = 0, unknown_handler = 1 };

// The destination's answer to an acked forward, routed back to its origin.
struct forward_ack {
    std::string origin;       // the acknowledging node
    std::string destination;  // the original sender
    std::uint64_t id = 0;
    ack_status status = ack_status::delivered;
    std::uint8_t hops = 0;
};

using message =
    std::variant<hello, welcome, referral, refusal, delta, digest, sync_delta, beacon, heartbeat, liveness,
                 partition_request, partition_resolve, partition_groups, forward, forward_ack, partition_applied>;

[[nodiscard]] message_type type_of(const message& m);
[[nodiscard]] const char* name_of(message_type type);

}  // namespace zpartisan::core
