/// @file
/// Configuration of one node. validate() is called by the Node constructor and throws
/// config_error naming the offending field; nothing else in the library re-checks these.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "zpartisan/node_spec.hpp"

namespace zpartisan {

/// Everything a Node is constructed with; only name is required.
struct config {
    std::string name;                        ///< unique in the cluster; also the ZeroMQ routing id
    zpartisan::role role = role::server;     ///< server or client
    std::string cluster_name = "zpartisan";  ///< nodes of different clusters refuse each other

    /// Where to bind. "tcp://127.0.0.1:*" lets the OS choose a port (tests, demos).
    std::string router_bind_endpoint = "tcp://127.0.0.1:*";
    std::string pub_bind_endpoint = "tcp://127.0.0.1:*";  ///< servers only
    /// What peers should dial; empty means "the endpoint actually bound". Required when the
    /// bind address is a wildcard (tcp://*:7000, tcp://0.0.0.0:7000), e.g. in containers.
    std::string advertised_router_endpoint;
    std::string advertised_pub_endpoint;  ///< servers: as advertised_router_endpoint, for PUB

    std::uint32_t heartbeat_interval_ms = 1000;  ///< to every direct peer
    std::uint32_t missed_heartbeats = 3;         ///< X: this many missed in a row means failed
    std::uint32_t gossip_interval_ms = 1000;     ///< anti-entropy: one digest to one peer per interval
    std::uint32_t handshake_retry_ms = 500;      ///< resend hello while a dial is unanswered
    // Limits: each a bound on what peers can make this node hold, with a counted drop or a
    // clear refusal beyond it (README "Limits").
    /// The largest frame this node sends or takes (the decoder's limit; ZMQ_MAXMSGSIZE is
    /// twice it). Advertised in the handshake: a send over the next hop's limit is refused
    /// too_large at once. Bundles of small messages reach min(64 KiB, this) (docs/protocol.md §1).
    std::size_t max_message_bytes = 4u << 20;
    /// Servers: other servers plus attached clients; a hello from a new peer beyond it is
    /// refused (too_many_peers). Sized for the cluster, not as a capacity plan (max_clients).
    std::uint32_t max_peers = 10000;
    /// Connections the kernel queues on each listening socket (ROUTER, PUB) before this node
    /// accepts them (ZMQ_BACKLOG; the kernel caps it at net.core.somaxconn). ZeroMQ's own
    /// default of 100 drops the SYNs of a join storm of hundreds of clients, which then wait
    /// seconds for TCP to retry.
    int listen_backlog = 1024;
    /// Duplicate windows (acked messages handled once) of senders that are not members: past
    /// this many, the one heard from longest ago is forgotten (duplicate_windows_evicted).
    std::size_t duplicate_windows_max = 4096;
    /// Gaps one duplicate window tracks (ids lost and awaiting retransmission); past it the
    /// oldest gap is given up (duplicate_window_gaps_given_up): a late copy of it is dropped
    /// unhandled, as a duplicate.
    std::size_t duplicate_window_gaps_max = 65536;
    int send_high_water_mark = 10000;  ///< per socket; reaching it means congested

    /// Application channels: name -> parallelism (connections per peer). Membership and
    /// heartbeats have their own connection, so bulk traffic cannot starve them.
    std::map<std::string, std::uint32_t> channels{{"default", 1}};
    std::uint64_t ack_timeout_ms = 5000;  ///< an acked message not acked by then is reported failed
    std::size_t send_queue_max = 100000;  ///< messages waiting for the reactor; beyond: congested
    /// Where message handlers and delivery reports run. false: off the reactor, on whichever
    /// of the node's two workers received the message (the other takes the sockets over if
    /// the handler runs long), so a slow handler never delays heartbeats. true: on the
    /// reactor itself, one worker, for handlers that return quickly and never block: a
    /// handler there must not call call() or sync_join() (they would wait on the very thread
    /// they hold; they throw usage_error).
    bool inline_handlers = false;

    std::uint32_t max_clients = 0;  ///< servers: client capacity, 0 = unlimited (reserve needs it)
    std::string tag;                ///< clients: claims a slot a server reserved for this tag

    /// CurveZMQ (README, "Security"). Empty: plaintext, every peer that reaches a port is heard.
    /// Set: the node's secret key in Z85 (40 characters, as `zpartisan-ctl keygen` writes it);
    /// its public key is derived from it and travels in its spec. Every socket is then
    /// encrypted and authenticated, and only peers whose public key is in curve_allowed_keys
    /// (Z85 each; this node's own key is always allowed) get through the handshake. A curve
    /// node joins another through "endpoint#<its public key>" or a spec carrying the key.
    std::string curve_secret_key;
    std::vector<std::string> curve_allowed_keys;  ///< Z85 public keys admitted with curve on

    std::string data_dir;           ///< empty: no persistence
    std::uint64_t incarnation = 0;  ///< 0: chosen at start (persisted or time based)

    /// Throws config_error naming the first field out of range or malformed.
    void validate() const;
};

}  // namespace zpartisan
