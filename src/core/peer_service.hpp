// The node's protocol as a pure state machine (after etcd-io/raft): the runtime feeds it
// decoded messages (on_message), time (tick) and API commands, and applies the effects it
// takes out (take_output) in order. It owns membership, handshakes, dial intents and
// anti-entropy. Never: sockets, clocks, threads, files or exceptions on network input.
#pragma once

#include <cstdint>
#include <array>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <variant>
#include <vector>

#include "core/acked_sends.hpp"
#include "core/duplicate_windows.hpp"
#include "core/dial_state.hpp"
#include "core/failure_detector.hpp"
#include "core/link.hpp"
#include "core/liveness_words.hpp"
#include "core/log_text.hpp"
#include "core/receive_order.hpp"
#include "core/route_status.hpp"
#include "core/membership_set.hpp"
#include "core/partition_table.hpp"
#include "core/replication_sequences.hpp"
#include "core/route_cache.hpp"
#include "core/messages.hpp"
#include "zpartisan/node_spec.hpp"

namespace zpartisan::core {

namespace effect {
struct send {
    link to;
    message msg;
};
struct publish {
    stream to;
    message msg;
};  // servers only: on our PUB socket
// server_key: the peer's CurveZMQ public key (Z85), empty when not known or not needed.
struct dial {
    std::string router_endpoint;
    std::string server_key;
};
struct hang_up {
    std::string router_endpoint;
};
struct subscribe {
    std::string pub_endpoint;
    std::string server_key;
};
struct unsubscribe {
    std::string pub_endpoint;
};
struct membership_changed {};  // persist, wake waiters
struct stopped {
    std::string reason;
};  // left or removed: close the peer service
// A member became reachable or unreachable as this node sees it (on_up / on_down).
struct reachability_changed {
    std::string node;
    bool up = true;
};
// An application message for this node's handlers.
struct deliver {
    forward msg;
};
// The fate of an acked message we sent: delivered, or failed with a reason.
struct delivery_report {
    std::uint64_t id = 0;  // the one send_app handed out (not the wire id)
    std::string destination;
    bool delivered = false;
    std::string reason;  // "timeout", "unknown_handler"
};
// The answer to an inject_partition made at this node: its origin holds the cut, or the
// request is given up (and healed wherever it reached) with the reason.
struct partition_outcome {
    std::string ref;
    bool applied = false;
    std::string reason;
};
// A log line. Peer-controlled parts of text are escaped and cut (core/log_text.hpp); one
// with a reason is about what a peer did, and is rate-limited per (reason, peer) where logged.
struct notice {
    enum class level : std::uint8_t { debug, info, warn };
    level severity = level::info;
    std::string text;
    std::string reason;  // empty: not a line a peer can provoke at will
    std::string peer;
};
}  // namespace effect

using output_effect =
    std::variant<effect::send, effect::publish, effect::dial, effect::hang_up, effect::subscribe, effect::unsubscribe,
                 effect::membership_changed, effect::stopped, effect::notice, effect::reachability_changed,
                 effect::deliver, effect::delivery_report, effect::partition_outcome>;

struct peer_service_options {
    node_spec self;  // router/pub endpoints are the advertised ones
    std::string cluster_name;
    std::uint64_t handshake_retry_ms = 500;
    std::uint64_t handshake_retry_max_ms = 5000;  // backoff bound for unanswered hellos
    std::uint64_t gossip_interval_ms = 1000;
    std::uint64_t beacon_interval_ms = 1000;  // servers: PUB beacons (the heartbeat interval)
    std::uint64_t heartbeat_interval_ms = 1000;
    std::uint32_t missed_heartbeats = 3;
    std::uint64_t rehome_backoff_max_ms = 5000;  // clients: bound on re-homing retries
    std::uint32_t max_clients = 0;               // servers: 0 = unlimited
    std::uint32_t max_peers = 10000;             // servers: other servers + attached clients
    std::uint64_t max_message_bytes = 4u << 20;  // advertised in hello and welcome
    std::size_t duplicate_windows_max = 4096;    // duplicate windows of senders not members
    std::size_t duplicate_window_gaps_max = 65536;
    std::uint64_t ack_timeout_ms = 5000;  // an acked message not acked by then fails
    std::size_t unacked_max = 10000;      // bound on the retransmit buffer
    std::uint64_t rng_seed = 1;
    int referral_hops_max = 3;  // bounds client->client->... referral chains
};

// How this node sees another member's liveness, with the evidence (docs/protocol.md §5).
struct member_liveness {
    std::string node;
    bool reachable = true;
    bool direct = false;              // watched by our own heartbeats, else told by a server
    std::string detected_by;          // who saw it go (us, or the announcing server)
    std::uint64_t last_heard_ms = 0;  // our clock; direct peers only
    std::uint64_t silent_ms = 0;
    std::uint32_t missed_heartbeats = 0;
    bool connection_lost = false;
};

enum class join_status { pending, joined, refused };

struct join_outcome {
    join_status status = join_status::pending;
    std::string reason;
};

// What the application asks to send; the core fills in origin, id and hops.
struct outgoing {
    std::string destination;
    std::string handler;
    delivery_kind kind = delivery_kind::forward;
    std::string channel;
    std::uint32_t lane = 0;
    bool ack = false;
    std::string reply_to;
    std::string payload;
};

enum class reserve_status { ok, no_available_slots, not_a_server };

struct partition_entry {
    std::string ref;
    std::string peer;  // a node name, or "group:<names>" for a group cut
};

struct dial_view {
    std::string endpoint;
    std::string peer;  // empty until welcomed
    bool welcomed = false;
};

class peer_service {
public:
    explicit peer_service(peer_service_options options);

    // --- API commands -------------------------------------------------------------------
    // Starts as a cluster of one, or from a persisted state: then it rejoins by itself the
    // servers it knew (a client: its last home) with its new incarnation.
    void start(std::uint64_t now_ms, const membership_state* restored = nullptr);
    // expected_name, when not empty, is who should answer at the endpoint (the name of the
    // spec the application joined by): a welcome under another name still joins, since our
    // hello already gave that node our state, with a warning and the mismatch as the
    // outcome's reason (docs/protocol.md §3).
    // server_key: the CurveZMQ public key of the node at endpoint (a curve cluster needs it to
    // dial a server it does not know from membership yet).
    void join(const std::string& endpoint, std::uint64_t now_ms, const std::string& expected_name = {},
              const std::string& server_key = {});
    void leave(std::uint64_t now_ms);
    // Removes another node cluster-wide; false when it is not a member.
    bool remove_member(const std::string& name, std::uint64_t now_ms);
    // Makes membership equal to specs (self is always kept: use leave() to go).
    void update_members(const std::vector<node_spec>& specs, std::uint64_t now_ms);

    // --- messaging (peer_service_messaging.cpp) ------------------------------------------
    // Sends (or delivers locally) an application message. With ack, *id is its id for the
    // delivery report that follows.
    route_status send_app(outgoing msg, std::uint64_t now_ms, std::uint64_t* id = nullptr);
    // Whether a message to destination could leave now, and if not why.
    [[nodiscard]] route_status route_status_of(const std::string& destination) const;
    // route_status_of for every member, in name order, without copying a spec: what the
    // runtime publishes to threads that send while the reactor works.
    template <class Visit>
    void for_each_route_status(Visit&& visit) const {
        _membership.for_each_spec([&](const node_spec& spec) { visit(spec.name, route_status_of(spec)); });
    }
    // Moves whenever something a route depends on may have changed (membership, links,
    // liveness, partitions, running); a copy of the routes taken at one epoch holds until
    // the next.
    [[nodiscard]] std::uint64_t route_epoch() const { return _routes.epoch(); }
    // The hot path for an application message the runtime encoded itself (not acked, not
    // local): ok with *hop set, or why it cannot leave now. Answers from a route cache that
    // every change of membership, links, liveness or partitions clears.
    route_status app_route(std::string_view destination, link* hop);
    // The largest frame a send to `destination` may be: our max_message_bytes, or less when
    // its next hop advertised less in its handshake (docs/protocol.md §3).
    [[nodiscard]] std::uint64_t frame_limit_to(std::string_view destination);
    [[nodiscard]] std::uint64_t frame_limit_of(const link& hop) const;
    // The hot path for a forward or ack passing through (destination is not us), read from
    // its header without decoding it: the same admission as on_message (partitions, any
    // message is a heartbeat), the hop limit, then the next hop; nullopt when dropped
    // (counted).
    std::optional<link> relay_hop(const link& from, std::string_view destination, std::uint8_t hops, bool is_ack,
                                  std::uint64_t now_ms);
    // A plain forward for us as the runtime reads it in place (views into its frame).
    struct plain_arrival {
        std::string_view origin{};
        std::uint64_t origin_incarnation = 0;
        std::string_view handler{};
        std::string_view channel{};
        std::uint32_t lane = 0;
        std::uint64_t sequence = 0;  // its id: the origin's count of plain frames (0: none)
        std::uint32_t entries = 0;   // messages it carries (a bundle's)
    };
    // The hot path for a plain (not acked) forward addressed to us, read in place: the same
    // admission, handler and order checks as on_message, without building the message; true
    // when the runtime should hand it to the handler.
    bool admit_local_delivery(const link& from, const plain_arrival& arrival, std::uint64_t now_ms);
    void register_handler(const std::string& name) { _handlers.insert(name); }
    void unregister_handler(const std::string& name) { _handlers.erase(name); }
    [[nodiscard]] std::size_t unacked_count() const { return _acked_sends.size(); }
    // Every acked message still waiting for its ack fails with `reason` (a delivery_report
    // each): the node stopped, so nothing will retransmit or hear them.
    void fail_unacked(const std::string& reason);

    // --- fault injection and capacity (peer_service_partition.cpp) ----------------------
    // Cuts `origin` off from every peer it is connected to (spreading ttl more hops). The
    // reference heals it; nullopt when origin is neither us nor reachable through a peer.
    // A partition_outcome effect follows for every reference handed out: at once for our
    // own cut, else when the origin confirms it or, by ack_timeout_ms, never did (then it
    // is healed wherever it reached).
    std::optional<std::string> inject_partition(const std::string& origin, std::uint32_t ttl, std::uint64_t now_ms);
    // Heals ref here and wherever it spread (the heal floods the cluster once); false when
    // this node did not hold ref itself.
    bool resolve_partition(const std::string& ref);
    // Cuts the cluster into groups (listed nodes of different groups stop talking).
    std::string partition_into_groups(const std::vector<std::vector<std::string>>& groups);
    [[nodiscard]] std::vector<partition_entry> partitions() const;
    // Holds one client slot for a node carrying tag (servers with max_clients).
    reserve_status reserve(const std::string& tag);
    [[nodiscard]] std::uint32_t free_client_slots() const;

    // --- inputs --------------------------------------------------------------------------
    void on_message(const link& from, message&& msg, std::uint64_t now_ms);
    void on_message(const link& from, const message& msg, std::uint64_t now_ms) {
        on_message(from, message(msg), now_ms);
    }
    void tick(std::uint64_t now_ms);
    // When tick() next has something to do if no input comes first (peer_service_deadlines.cpp):
    // the earliest heartbeat, beacon, gossip round, hello retry, failure, re-homing step,
    // retransmission or ack deadline, partition retry or expiry, held delivery's release or
    // announcement's expiry. A tick strictly before it changes nothing and emits nothing, so
    // the runtime may sleep until then; at or before now_ms means due now; nullopt: only an
    // input (a message, a command, a connection event) can give tick() work. Inputs may bring
    // it earlier: ask again after each.
    [[nodiscard]] std::optional<std::uint64_t> next_deadline_ms(std::uint64_t now_ms) const;
    // Acked messages for us wait in the receive order (handed over by tick() once the
    // handlers' queue has room again: see set_deliveries_backlogged).
    [[nodiscard]] bool holds_deliveries() const { return _receive_order.held() > 0; }
    // The transport saw a connection close. A dialed link names its peer; on the ROUTER side
    // ZeroMQ cannot say which peer went, so every attached client is probed at once.
    void on_connection_lost(const link& which, std::uint64_t now_ms);
    // A send to an accepted peer failed because ZeroMQ no longer has that routing id.
    void on_peer_gone(const link& which, std::uint64_t now_ms);
    // The handlers' queue is (nearly) full: an acked message for us is then neither taken nor
    // acknowledged, so its sender retransmits it later, instead of being acknowledged and
    // then dropped by a full queue.
    void set_deliveries_backlogged(bool backlogged) { _deliveries_backlogged = backlogged; }

    // --- outputs -------------------------------------------------------------------------
    [[nodiscard]] bool has_output() const { return !_output.empty(); }
    [[nodiscard]] std::vector<output_effect> take_output();

    // --- queries -------------------------------------------------------------------------
    [[nodiscard]] bool running() const { return _running; }
    [[nodiscard]] const node_spec& self() const { return _self; }
    [[nodiscard]] const membership_set& membership() const { return _membership; }
    // Joined, holding a full state, and connected to every peer it should be (docs/protocol.md §3).
    [[nodiscard]] bool settled() const;
    [[nodiscard]] std::optional<join_outcome> outcome_of_join(const std::string& endpoint) const;
    [[nodiscard]] std::vector<dial_view> dials() const;
    [[nodiscard]] std::vector<std::string> attached_clients() const;
    [[nodiscard]] std::map<std::string, std::uint64_t> counters() const;
    [[nodiscard]] std::vector<member_liveness> liveness_view() const;
    [[nodiscard]] bool reachable(const std::string& name) const;

private:
    void handle(const link& from, const hello& msg, std::uint64_t now_ms);
    void handle(const link& from, const welcome& msg, std::uint64_t now_ms);
    void handle(const link& from, const referral& msg, std::uint64_t now_ms);
    void handle(const link& from, const refusal& msg, std::uint64_t now_ms);
    void handle(const link& from, const delta& msg, std::uint64_t now_ms);
    void handle(const link& from, const digest& msg, std::uint64_t now_ms);
    void handle(const link& from, const sync_delta& msg, std::uint64_t now_ms);
    void handle(const link& from, const beacon& msg, std::uint64_t now_ms);
    void handle(const link& from, const heartbeat& msg, std::uint64_t now_ms);
    void handle(const link& from, const liveness& msg, std::uint64_t now_ms);

    void handle(const link& from, const partition_request& msg, std::uint64_t now_ms);
    void handle(const link& from, const partition_resolve& msg, std::uint64_t now_ms);
    void handle(const link& from, const partition_groups& msg, std::uint64_t now_ms);
    void handle(const link& from, const partition_applied& msg, std::uint64_t now_ms);
    // Takes a partition request or its answer one hop on towards `target` (docs/protocol.md §6).
    void relay_partition_control(const link& from, message msg, const std::string& target);
    // Sends the requests still waiting for their answer again every heartbeat interval (a relay
    // drops what it has no way on for), and gives up those past ack_timeout_ms.
    void retry_partition_requests(std::uint64_t now_ms);

    void handle(const link& from, forward&& msg, std::uint64_t now_ms);
    void handle(const link& from, const forward_ack& msg, std::uint64_t now_ms);

    // --- messaging (peer_service_messaging.cpp) ---
    // The next hop towards destination: a peer we dial, an attached client, or the server
    // that relays (docs/protocol.md §7, Routes); nullopt when there is none.
    [[nodiscard]] std::optional<link> next_hop(const std::string& destination) const;
    [[nodiscard]] std::optional<link> next_hop(const std::string& destination, const node_spec* spec) const;
    [[nodiscard]] route_status route_status_of(const node_spec& destination) const;
    // Sends msg to destination's next hop; false (nothing sent) when there is none. The channel
    // and lane a forward names travel inside it: the transport picks the connection.
    bool route(message msg, const std::string& destination);
    // The one relay decision, for a forward or ack read in place (relay_hop) or decoded
    // (relay): the hop limit, then a next hop that is not cut off; nullopt when dropped
    // (counted).
    std::optional<link> relay_decision(std::string_view destination, std::uint8_t hops);
    // Passes a decoded forward or ack on towards its destination, one hop further.
    template <class Routed>
    void relay(const Routed& msg);
    void retransmit_and_expire(std::uint64_t now_ms);
    // Hands a message for us to its handler and answers it (acked); false when a full handler
    // queue leaves it to its retransmission.
    bool hand_over(forward&& msg, std::uint64_t now_ms);
    void answer(const forward& msg, ack_status status, std::uint64_t now_ms);

    // --- order of acked messages (peer_service_ordering.cpp, docs/protocol.md §7 Order) ---
    // Sender: numbers a plain frame (its id) in the count of plain frames it sends.
    void number_plain(forward& msg) { msg.id = ++_plain_frames_sent; }
    // Receiver: false (counted) when a plain frame's lane handed over a later one already.
    bool plain_in_order(const plain_arrival& arrival, std::uint64_t now_ms);
    // Receiver: an acked message carrying order, handed over now or held until its turn.
    void take_in_order(forward&& msg, std::uint64_t now_ms);
    // Hands over the held messages whose turn came (with overdue, also those held too long).
    void release_held(std::uint64_t now_ms, bool overdue);

    // --- partitions and capacity (peer_service_partition.cpp) ---
    [[nodiscard]] static bool is_partition_control(const message& msg);
    [[nodiscard]] std::vector<std::string> connected_peers() const;
    // Sends to a direct peer by name (our dial to it, or the ROUTER for an attached client).
    bool send_to_peer(const std::string& peer, message msg);
    void cut_off(const std::string& ref, std::uint32_t ttl);
    void apply_groups(const std::string& ref, const std::vector<std::vector<std::string>>& groups);
    // Drops sends and publishes that a partition in force forbids (take_output's filter).
    [[nodiscard]] bool blocked(const output_effect& out) const;
    // Whether a partition in force forbids sending on that link (the peer behind it is cut off).
    [[nodiscard]] bool link_blocked(const link& to) const;
    // A message for us whose origin a partition cuts us off from (counted when so).
    bool cut_off_origin(std::string_view origin);
    [[nodiscard]] bool can_accept_client(const node_spec& client) const;
    [[nodiscard]] std::uint32_t slots_in_use() const;

    // --- liveness (peer_service_liveness.cpp) ---
    [[nodiscard]] std::optional<std::string> sender_of(const link& from, const message& msg) const;
    void heard_from(const std::string& peer, std::uint64_t now_ms);
    void watch(const std::string& peer, std::uint64_t now_ms);
    void unwatch(const std::string& peer);
    void send_heartbeats();
    void apply_transition(const liveness_transition& transition, std::uint64_t now_ms);
    [[nodiscard]] bool compute_reachable(const std::string& name) const;
    [[nodiscard]] bool compute_reachable(const node_spec& spec) const;
    // Whether a server's liveness word about subject counts here: it comes from the server
    // that watches the subject for us (docs/protocol.md §5).
    [[nodiscard]] bool speaks_for(const std::string& server, const node_spec& subject) const;
    // Recomputes the view of the named members (all when names is empty) and emits the
    // transitions: on_up/on_down fire from here only.
    void refresh_reachability(const std::vector<std::string>& names);
    void maybe_rehome(std::uint64_t now_ms);
    // When maybe_rehome next acts (at or before now_ms: now); nullopt when only an input can
    // make it act.
    [[nodiscard]] std::optional<std::uint64_t> rehome_deadline_ms(std::uint64_t now_ms) const;
    // Whether the home server counts as down at now_ms (gone, failed, or its dial unanswered
    // for the detection time), and when an unanswered dial makes it so.
    [[nodiscard]] bool home_down(std::uint64_t now_ms, std::optional<std::uint64_t>* silent_at = nullptr) const;
    // The servers a client may move to: reachable, with a router endpoint, neither its home
    // nor the target it is trying already.
    [[nodiscard]] std::vector<std::string> rehome_candidates() const;
    // Gap rule: a publisher's stream is numbered; a jump means PUB/SUB lost something.
    void observe_publisher_seq(const std::string& publisher, std::uint64_t seq, bool is_delta);

    // Servers, every heartbeat: a client attached here whose own spec still names another
    // home after the handshake's time never took us as home (it moved on before our welcome
    // reached it): let it go, or we would hold and watch it for ever.
    void drop_foreign_attachments(std::uint64_t now_ms);
    void detach(const std::string& client);
    // A client of ours we hear from on our ROUTER without a hello (we restarted).
    void readopt_client(const std::string& name, std::uint64_t now_ms);
    void refuse(const link& to, refusal_reason reason, std::string detail);
    // A client's hello that the client's own later spec contradicts (it moved elsewhere).
    [[nodiscard]] bool stale_hello(const node_spec& client) const;
    [[nodiscard]] referral make_referral(std::string reason) const;
    // Merges remote state. Servers publish what changed them to their clients, and first-hand
    // changes (from a client, a hello or the API) to the other servers too.
    enum class provenance { first_hand, from_server };
    // told_by: the node the state came from (named in the log line of a node that learns it
    // was removed).
    void merge(const membership_state& state, provenance source, std::uint64_t now_ms, const std::string& told_by);
    void publish(effect::stream to, const membership_state& change);
    // Whether merging delta may change whom we dial: it adds, changes or removes a server.
    [[nodiscard]] bool touches_topology(const membership_state& delta) const;
    // Servers' deltas already reached every server; a client's (or unknown) sender's did not.
    [[nodiscard]] provenance provenance_of(const std::string& sender) const;
    [[nodiscard]] std::uint64_t stream_seq_for(const std::string& subscriber) const;
    // Sends our own mutation where it has to go: PUB for servers, the home server for clients.
    void propagate(const membership_state& change);
    void reconcile_dials(std::uint64_t now_ms);
    // The CurveZMQ key to dial endpoint with: what its join target named, else the key of
    // the member advertising that router endpoint; empty when neither knows one.
    [[nodiscard]] std::string server_key_of(const std::string& router_endpoint) const;
    void send_hello(const std::string& endpoint, std::uint64_t now_ms);
    void resolve_join(const std::string& target, join_status status, std::string reason);
    // Sends our digest to a peer: with full, the whole digest (we know we lack something);
    // without, only its fingerprint (a periodic round).
    void request_sync(const std::string& peer_name, bool full);
    [[nodiscard]] digest our_digest(bool full) const;
    void stop(std::string reason);
    void count(const std::string& what) { ++_counters[what]; }
    void routes_changed() { _routes.invalidate(); }
    const cached_route& route_for(std::string_view destination);
    // Direct peers' frame limits from their hello or welcome, where below ours; bounded by
    // the peers we hold (entries of links gone are dropped as new ones come).
    std::map<link, std::uint64_t> _lower_frame_limits;
    void note_frame_limit(const link& peer, std::uint64_t advertised);
    // Servers: room for a hello from `name` under max_peers (one we hold already always has).
    [[nodiscard]] bool has_room_for_peer(const std::string& name) const;
    // The peer a link names (an accepted routing id, a welcomed dial), if any.
    [[nodiscard]] std::optional<std::string> sender_of_link(const link& from) const;
    // Inbound admission shared by on_message, relay_hop and admit_local_delivery: a partition
    // in force drops the sender's traffic (counted); otherwise the message counts as a
    // heartbeat from it.
    bool admit(const std::optional<std::string>& sender, bool partition_control, std::uint64_t now_ms);
    // The hot paths' shared start for a forward or ack read in place: a stopped node drops it,
    // it is counted as received, then admitted like any message from the link's peer.
    bool admit_routed(const link& from, bool is_ack, std::uint64_t now_ms);
    // Whether a handler of that name is registered; a message for none is a counted drop.
    bool handler_known(std::string_view handler, std::uint32_t entries);
    void note(effect::notice::level severity, std::string text, std::string reason = {}, std::string peer = {});
    [[nodiscard]] std::optional<std::string> dial_of_peer(const std::string& name) const;

    peer_service_options _options;
    node_spec _self;  // home_server tracks the client's current home
    membership_set _membership;
    std::mt19937_64 _rng;
    partition_table _partitions;         // cuts in force, heals passed on, requests made here
    replication_sequences _replication;  // our PUB numbers, the publishers' we follow, gossip rounds
    bool _running = false;
    std::map<std::string, dial_state> _dials;  // by router endpoint
    hello_backoff _hello_backoff;
    std::map<std::string, join_target> _join_targets;        // endpoints dialed because of join()
    std::map<std::string, join_outcome> _join_outcomes;      // by the endpoint join() was given
    std::map<std::string, std::uint64_t> _attached_clients;  // servers: clients welcomed, by name
    // Servers: the servers whose own dial to us is welcomed (a heartbeat came over it since
    // we last welcomed their hello), so they route to us.
    std::set<std::string, std::less<>> _dialed_back_by;
    std::uint64_t _next_beacon_ms = 0;
    std::uint64_t _next_heartbeat_ms = 0;
    failure_detector _detector;
    liveness_words _announced;  // servers' down words about members we do not watch
    std::uint64_t _started_ms = 0;
    void expire_announcements(std::uint64_t now_ms);
    // Servers, at every beacon: the down words of what we watch and saw fail, again; and,
    // once we ran for the detection time, of the servers our dial has not reached in that time
    // and of the clients that name us as home but that we do not hold (they died while we
    // were away, or before a restart of ours).
    void repeat_down_words(std::uint64_t now_ms);
    std::map<std::string, liveness_transition> _lost;  // direct peers we saw fail, with evidence
    std::map<std::string, bool> _reachable_view;       // what on_up/on_down last reported
    // Each new connection hears the last few heals (partition_table.hpp), which a receiver
    // that had them ignores.
    void pass_recent_heals(const link& to);
    // Sends a copy of an acked message if its destination can be reached now (not towards a
    // failed or partitioned one: its copies would only fill a queue that leads nowhere).
    bool send_acked_copy(const forward& msg);
    // Acked messages that found no route leave the moment one appears (a welcome, a peer
    // back up, a heal), not at their next retransmission.
    void send_when_routed(std::uint64_t now_ms);
    // Every heartbeat interval (so it costs an idle node no wake-up of its own): duplicate
    // windows and id sequences of nodes long gone.
    void prune_messaging_state(std::uint64_t now_ms);
    [[nodiscard]] bool is_member(const std::string& name) const { return _membership.contains(name); }
    // A sender or destination no longer a member (it left, was removed) keeps its duplicate
    // window and receive order this long after its last message, longer than any
    // retransmission of it lasts.
    static constexpr std::uint64_t stranger_linger_ms = 600'000;
    std::set<std::string, std::less<>> _handlers;  // registered handler names
    std::uint64_t _plain_frames_sent = 0;
    acked_sends _acked_sends;              // ids, order fields and the retransmit buffer
    duplicate_windows _duplicate_windows;  // acked messages handed over here, per origin
    receive_order _receive_order;
    bool _deliveries_backlogged = false;
    std::map<std::string, std::uint32_t> _reservations;  // tag -> slots held (servers)
    std::map<std::string, std::uint32_t> _server_room;   // server -> free client slots, from beacons
    std::string _rehome_target;                          // clients: the server we are moving to
    std::uint64_t _rehome_deadline_ms = 0;
    std::uint64_t _rehome_backoff_ms = 0;
    std::map<std::string, std::uint64_t> _counters;                               // rare events, by name
    std::array<std::uint64_t, std::variant_size_v<message>> _received_by_type{};  // hot path: no strings
    route_cache _routes;
    std::uint64_t _relayed = 0;  // hot-path counters, merged into counters()
    std::vector<output_effect> _output;
};

}  // namespace zpartisan::core
