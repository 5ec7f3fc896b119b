/// @file
/// zpartisan::Node: one member of a zpartisan cluster, embedded in your process.
/// Thread-safe: every method may be called from any thread. Each call is carried to the
/// node's reactor through its command pipe (a plain send may go out on the caller's thread
/// while the reactor sleeps); nothing here blocks on the network except sync_join, which
/// waits at most its timeout.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zpartisan/config.hpp"
#include "zpartisan/errors.hpp"
#include "zpartisan/messaging.hpp"
#include "zpartisan/node_spec.hpp"

namespace zpartisan {

namespace runtime {
class reactor;
}

/// One outgoing connection of this node (node_status::dials).
struct dial_info {
    std::string endpoint;   ///< the ROUTER endpoint our DEALER is connected to
    std::string peer;       ///< the node behind it, once it welcomed us
    bool welcomed = false;  ///< the handshake completed
};

/// How this node sees a member's liveness, and the evidence when it is unreachable.
struct liveness_info {
    std::string node;                     ///< the member's name
    bool reachable = true;                ///< false: seen failed, with the evidence below
    bool direct = false;                  ///< watched by our heartbeats (else a server told us)
    std::string detected_by;              ///< who saw it fail
    std::uint64_t silent_ms = 0;          ///< how long it had been silent when seen failing
    std::uint64_t last_heard_ms_ago = 0;  ///< direct peers: time since its last message
    std::uint32_t missed_heartbeats = 0;  ///< in a row, when seen failing
    bool connection_lost = false;         ///< the TCP connection closed (a crash, not a hang)
};

/// Returned by on_up/on_down; remove_callback takes it.
using callback_handle = std::uint64_t;

/// What Node::set_curve_allowed_keys changed (public keys, Z85).
struct [[nodiscard]] curve_allow_list_change {
    std::vector<std::string> added;    ///< keys now admitted that were not
    std::vector<std::string> removed;  ///< keys no longer admitted
};

/// One injected partition this node holds (Node::partitions).
struct partition_entry {
    std::string ref;   ///< resolve_partition(ref) heals it
    std::string peer;  ///< the peer it cuts this node off from
};

/// A snapshot of this node, from Node::status().
struct node_status {
    node_spec self;                                 ///< advertised endpoints, current home server for a client
    bool running = false;                           ///< false once the node left or was removed (Node::running() also
                                                    ///< counts stop() and a fatal transport error)
    bool settled = false;                           ///< joined and connected to every peer it should be
    std::size_t member_count = 0;                   ///< members this node knows, itself included
    std::vector<dial_info> dials;                   ///< one DEALER each
    std::vector<std::string> attached_clients;      ///< servers: clients whose home is this node
    std::map<std::string, std::uint64_t> counters;  ///< messages, drops by reason, refusals...
};

/// One member of a zpartisan cluster, embedded in your process: a server or a client
/// (config::role), with its sockets and two worker threads. Thread-safe: every method may be
/// called from any thread.
///
/// @code
/// zpartisan::config cfg;
/// cfg.name = "c1";
/// cfg.role = zpartisan::role::client;
/// zpartisan::Node node(cfg);
/// if (node.sync_join("tcp://10.0.0.5:7000", std::chrono::seconds(5)).ok())
///     node.forward_message("s1", "orders", "one apple");
/// @endcode
class Node {
public:
    /// Validates cfg (throws config_error), binds its sockets (throws error when it cannot)
    /// and starts its worker threads (the reactor). The node starts as a cluster of one.
    explicit Node(config cfg);
    /// stop(): does not leave; use leave() first to go cleanly. From the node's own handler or
    /// callback it stops at once and its threads finish in the background once that returns.
    ~Node();
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;

    /// @name Membership (docs/protocol.md §3, §4)
    /// @{

    /// Asynchronous join through any member's ROUTER endpoint; returns at once.
    /// A Node runs once: after it left, was removed or stopped (running() false) it cannot
    /// join again. join and sync_join then answer `stopped`, with stopped_reason() and that a
    /// new Node is needed: destroy this one and construct a new Node (same config, a fresh
    /// incarnation), which joins as a new member.
    op_result join(const std::string& endpoint);
    /// Returns ok when this node is a member, holds the full state and is connected to every
    /// peer it should be; refused with the peer's reason; timeout at the deadline; stopped as
    /// join does.
    op_result sync_join(const std::string& endpoint, std::chrono::milliseconds timeout);
    /// The same through a member's spec (from members_for_orchestration(), status().self or a
    /// decoded state): joins through peer.router_endpoint; a client's spec is referred on to
    /// its server as its endpoint would be. An empty or wildcard router endpoint answers
    /// `bad_endpoint`; a spec with this node's own name answers `refused`. When the node at
    /// the endpoint answers under another name than peer.name (a stale spec, a reused port),
    /// the join still happens (our hello already gave that node our state): it logs a
    /// warning, counts `join_spec_name_mismatch`, and sync_join's ok result carries the
    /// mismatch as its reason.
    op_result join(const node_spec& peer);
    /// sync_join through a member's spec, as join(const node_spec&) joins through one.
    op_result sync_join(const node_spec& peer, std::chrono::milliseconds timeout);
    /// Removes this node cluster-wide, telling its peers first, and stops its peer service for
    /// good (see join).
    op_result leave();
    /// Removes another node cluster-wide; that node learns it and stops its peer service for
    /// good (its running() turns false; a daemon exits).
    op_result leave(const std::string& name);
    /// Makes membership equal to specs: joins the new, removes the missing (self stays).
    op_result update_members(const std::vector<node_spec>& specs);

    [[nodiscard]] std::vector<std::string> members() const;                  ///< sorted, self included
    [[nodiscard]] std::vector<node_spec> members_for_orchestration() const;  ///< every member's spec
    [[nodiscard]] std::string get_local_state() const;                       ///< the CRDT state, serialized
    /// The specs in a state from get_local_state(); nullopt when the bytes are not one.
    [[nodiscard]] static std::optional<std::vector<node_spec>> decode(std::string_view state);
    /// @}

    /// @name Messaging (docs/protocol.md §7)
    /// Every send returns a send_status for what can happen at run time. Mistakes in the call
    /// itself throw usage_error instead: a channel the config does not name, a reference that
    /// is not "handler@node", reply() to a message that was not a call, call() from this
    /// node's own handler.
    /// @{

    /// Handlers run off the reactor, one message at a time, in arrival order (on either of
    /// the node's two worker threads: the one that received the message, unless it runs long).
    /// Registering a name again replaces its handler.
    void register_handler(const std::string& name, message_handler handler);
    /// Removes the handler; false when none had that name. What was queued for it is dropped
    /// (counted).
    bool unregister_handler(const std::string& name);

    /// To node's default inbox (the handler named "inbox").
    /// Payloads are views: the bytes are copied (once, into the frame or bundle that goes out)
    /// before the call returns, so the caller keeps its buffer.
    send_status send_message(const std::string& node, std::string_view payload);
    /// To a named handler on node; node may be this node (delivered locally).
    send_status forward_message(const std::string& node, const std::string& handler, std::string_view payload,
                                const message_options& options = {});
    /// The same addressed by a remote reference "handler@node" (or one from make_reference).
    send_status forward_message(const std::string& reference, std::string_view payload,
                                const message_options& options = {});
    /// Delivered with kind cast (partisan: {'$gen_cast', Msg}).
    send_status cast_message(const std::string& node, const std::string& handler, std::string_view payload,
                             const message_options& options = {});
    /// cast_message addressed by a remote reference "handler@node".
    send_status cast_message(const std::string& reference, std::string_view payload,
                             const message_options& options = {});
    /// Request/response on a one-off reference: the handler answers with reply(). Throws
    /// usage_error from one of this node's own handlers (the reply would wait behind it).
    call_result call(const std::string& node, const std::string& handler, std::string payload,
                     std::chrono::milliseconds timeout, const message_options& options = {});
    /// call addressed by a remote reference "handler@node".
    call_result call(const std::string& reference, std::string payload, std::chrono::milliseconds timeout,
                     const message_options& options = {});
    /// Answers a call: request is what the handler received (its reply_to says where to).
    send_status reply(const inbound_message& request, std::string_view payload);
    /// A fresh one-off reference "zp.ref.<incarnation>.<N>@this-node" (partisan's gensym),
    /// never handed out again, even by a restart of this node (unless config.incarnation pins
    /// the incarnation); register a handler under its name part to receive what is sent to it.
    [[nodiscard]] std::string make_reference();
    /// The single entry every inbound frame goes through; callable directly with an encoded
    /// frame from `peer` (tests, bridges). Malformed frames are dropped and counted.
    op_result receive_message(const std::string& peer, const std::string& channel, const std::string& frame);
    /// @}

    /// @name Liveness callbacks (docs/protocol.md §5)
    /// on_up / on_down: node is a member's name or "*" for every member. fn takes
    /// no argument or the node's name. Several callbacks per key; each fires once per
    /// transition, on a thread of the node's own (never the I/O thread; a throwing callback
    /// is logged and counted). For direct peers by heartbeats, for others through their
    /// server's announcements. The handle unregisters.
    /// @{
    callback_handle on_up(const std::string& node, std::function<void()> fn);  ///< fn() when node comes up
    /// fn(name) when node (or any member, for "*") comes up.
    callback_handle on_up(const std::string& node, std::function<void(const std::string&)> fn);
    callback_handle on_down(const std::string& node, std::function<void()> fn);  ///< fn() when node goes down
    /// fn(name) when node (or any member, for "*") goes down.
    callback_handle on_down(const std::string& node, std::function<void(const std::string&)> fn);
    bool remove_callback(callback_handle handle);  ///< false when the handle is unknown
    /// @}

    /// @name Partitions (docs/protocol.md §7, Partitions)
    /// @{

    /// Fault injection: `origin` (this node or any member it
    /// can reach) cuts itself off from every peer it is connected to; ttl > 0 spreads the cut
    /// that many more hops (partisan's HyParView semantics). All traffic is dropped both ways,
    /// heartbeats included. inject_partition returns once the origin holds the cut: `refused`
    /// when no route leads there, `timeout` when the origin did not confirm within
    /// ack_timeout_ms (what took effect is then healed).
    partition_result inject_partition(const std::string& origin, std::uint32_t ttl = 0);
    /// The same without waiting: on_result runs once, on the node's callback thread (where
    /// delivery reports and on_up/on_down run). Safe from a handler.
    void inject_partition(const std::string& origin, std::uint32_t ttl,
                          std::function<void(const partition_result&)> on_result);
    /// Cuts the cluster into groups of names: no traffic between groups until healed.
    partition_result partition_groups(const std::vector<std::vector<std::string>>& groups);
    op_result resolve_partition(const std::string& ref);            ///< heals it everywhere it spread
    [[nodiscard]] std::vector<partition_entry> partitions() const;  ///< the partitions this node holds
    /// @}

    /// Servers with max_clients: holds one client slot for a node configured with `tag`.
    /// refused with reason "no_available_slots" when the server is full.
    op_result reserve(const std::string& tag);
    /// True exactly for what this build does (monitoring, partition_injection, persistence...).
    [[nodiscard]] static bool supports_capability(std::string_view name);
    [[nodiscard]] static std::vector<std::string> capabilities();  ///< every name supports_capability accepts

    /// CurveZMQ (config.curve_secret_key; README, "Security"): this node's public key (Z85),
    /// which its spec carries and peers put on their allow lists; empty when curve is off.
    [[nodiscard]] std::string curve_public_key() const;
    /// Replaces config.curve_allowed_keys while the node runs: handshakes from now on are
    /// judged by the new list (connections already up stay up). Throws usage_error for a text
    /// that is not a key. Curve off: changes nothing and says so (both lists empty).
    curve_allow_list_change set_curve_allowed_keys(const std::vector<std::string>& keys);

    /// Every member as this node sees it: reachable or not, and why.
    [[nodiscard]] std::vector<liveness_info> liveness() const;

    [[nodiscard]] node_status status() const;  ///< own spec, settled or not, dials, counters
    /// False once this node left, was removed by another node, or stopped (stop(), its
    /// destruction, a fatal transport error); it never runs again (see join). Cheap: no call
    /// to the reactor, so it may be polled.
    [[nodiscard]] bool running() const;
    /// Why running() is false: "left the cluster", "removed from the cluster by another node",
    /// "transport error: ...", or that the application stopped it. Empty while it runs.
    [[nodiscard]] std::string stopped_reason() const;
    [[nodiscard]] const std::string& name() const;      ///< config::name
    [[nodiscard]] std::string router_endpoint() const;  ///< advertised: what peers dial
    [[nodiscard]] std::string pub_endpoint() const;     ///< advertised: what peers subscribe to (servers)

    /// Fault injection for drills and tests: drop this share (0..1) of the membership deltas
    /// this node publishes on PUB, as a lossy network or a slow joiner would. Gap repair and
    /// anti-entropy must make up for it. Throws usage_error outside [0, 1].
    void inject_publish_loss(double ratio);

    /// Stops the reactor without leaving: the node goes silent while its sockets stay open
    /// until destruction, as a hung (SIGSTOPped) process would. Destroying the Node closes
    /// them, as a crash would. Idempotent; may be called from the node's own handler.
    void stop();

private:
    send_status send_as(message_kind kind, const std::string& node, const std::string& handler,
                        std::string_view payload, const message_options& options, std::string reply_to);

    std::unique_ptr<runtime::reactor> _reactor;
};

}  // namespace zpartisan
