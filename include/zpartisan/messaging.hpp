/// @file
/// Application messaging vocabulary (docs/protocol.md §7): what a handler receives, the options of a
/// send, and the results a send returns. Plain data, standard library only.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace zpartisan {

/// Every outcome a send can have; never silent (docs/protocol.md §7, Results).
enum class [[nodiscard]] send_status{
    ok,                 ///< on its way (or delivered locally)
    unknown_node,       ///< no member has that name
    not_yet_connected,  ///< this node has no connection yet (still joining)
    disconnected,       ///< a member, but no route to it right now
    unreachable,        ///< a member this node sees as failed
    partitioned,        ///< an injected partition forbids it
    congested,          ///< back-pressure, retry later: the send queue, the connection to the
                        ///< destination's next hop (its high-water mark) or the retransmit buffer is full
    too_large,          ///< its frame (payload, names and header) over max_message_bytes
    stopped,            ///< this node left, was removed or stopped
};

/// The status's name, e.g. "congested".
[[nodiscard]] const char* to_string(send_status status);

/// How a message was sent: send_message, forward_message, cast_message, call, or reply.
enum class message_kind { send, forward, cast, call, reply };

/// What a handler receives.
struct inbound_message {
    std::string from;     ///< the origin node
    std::string handler;  ///< the handler (or one-off reference) it was addressed to
    message_kind kind = message_kind::forward;
    std::string channel;   ///< the channel it came on (message_options::channel)
    std::string payload;   ///< the bytes sent, as sent
    std::string reply_to;  ///< calls: answer with Node::reply(message, payload)
};

/// A handler, registered under a name with Node::register_handler.
using message_handler = std::function<void(const inbound_message&)>;

/// Delivered on the node's callback thread (the one on_up/on_down callbacks run on, never a
/// handler's: a handler may wait for a report) once an acked message is acknowledged, or when
/// it failed, with the reason: "timeout" (no ack by ack_timeout_ms), "unknown_handler" (the
/// peer has no such handler), "stopped" (this node left, was removed or stopped first; the
/// destructor waits for these reports, unless called from the node's own handler or callback:
/// a report callback must not wait for what the destroying thread holds), "no route" or
/// "congested" (its route went away, or filled up, while it waited in the send queue).
/// "delivered" means accepted for the handler: a handler unregistered meanwhile drops what was
/// queued for it (counted). A report callback that waits (a call() in it, say) holds up the
/// reports and on_up/on_down callbacks behind it.
struct delivery_report {
    std::string destination;  ///< the node it was sent to
    bool delivered = false;   ///< acknowledged by the destination
    std::string reason;       ///< why not, when not delivered
};

/// How a message is sent: its channel, its key, whether it is acked.
struct message_options {
    std::string channel = "default";  ///< a channel named in config::channels
    /// The same key always takes the same connection of the channel, so order holds per key.
    /// Without one the destination picks the connection: order holds per receiver and channel,
    /// and a key is how one destination's traffic spreads over a channel's connections.
    std::optional<std::uint64_t> partition_key;
    /// At-least-once: retransmitted until acknowledged, duplicates suppressed at the receiver.
    bool ack = false;
    std::function<void(const delivery_report&)> on_report;  ///< ack only; optional
};

/// What Node::call returns: how the request went out, and the reply.
struct [[nodiscard]] call_result {
    send_status status = send_status::ok;  ///< how the request went out
    bool answered = false;                 ///< false: no reply within the timeout, or `failure`
    std::string payload;                   ///< the reply
    /// Why the request was not handled, known before the timeout: a delivery_report reason
    /// ("unknown_handler", "timeout", "stopped", ...). Empty when it was handled but no reply
    /// came in time.
    std::string failure;

    [[nodiscard]] bool ok() const { return status == send_status::ok && answered; }
};

}  // namespace zpartisan
