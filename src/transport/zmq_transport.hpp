// The ZeroMQ edge: owns the context and every socket of one node (ROUTER inbox, PUB,
// one DEALER per dialed peer, one SUB, and the wake-up pipe), applies socket options, and
// polls them. The only code that includes zmq.hpp; zmq::error_t never leaves this layer.
// Not thread-safe: used by one thread at a time (the reactor, or a sender it lent the
// sockets to while it sleeps, see prepare_wait), except wakeup_pipe::notify.
#pragma once

#include <sys/epoll.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <set>
#include <vector>

#include "core/link.hpp"
#include "transport/curve_keys.hpp"
#include "transport/frame.hpp"
#include "transport/refusal_log.hpp"
#include "transport/transport_error.hpp"
#include "transport/wakeup_pipe.hpp"
#include "zpartisan/node_spec.hpp"

namespace zmq {
class context_t;
class socket_t;
class error_t;
}  // namespace zmq

namespace zpartisan::transport {

class zap_handler;

struct transport_options {
    std::string name;  // our routing id on every DEALER
    role node_role = role::server;
    std::string router_bind_endpoint;
    std::string pub_bind_endpoint;  // servers only
    std::size_t max_message_bytes = 4u << 20;
    int send_high_water_mark = 10000;
    int listen_backlog = 1024;  // ZMQ_BACKLOG of the ROUTER and PUB, set before they bind
    int linger_ms = 500;        // closing after a leave flushes goodbyes for at most this long
    int zmtp_heartbeat_interval_ms = 1000;
    int zmtp_heartbeat_timeout_ms = 3000;
    int reconnect_interval_ms = 100;
    int reconnect_interval_max_ms = 2000;
    // Application channels and their parallelism: each dial opens this many extra
    // connections per channel, so bulk traffic never queues behind (or ahead of) heartbeats
    // and membership, which use the first connection.
    std::map<std::string, std::uint32_t> channels;
    // CurveZMQ (README, "Security"): with a secret key (Z85), every socket is CURVE. Bound
    // sockets are CURVE servers whose ZAP handler admits only curve_allowed_keys; dialing
    // sockets need the public key of the node they dial.
    std::string curve_secret_key;
    std::string curve_public_key;
    std::set<std::string> curve_allowed_keys;
};

// lane_not_connected: an accepted peer's lane for that channel is not there (yet); whether to
// wait for it or use the control connection is flow control's decision (core/flow_control.hpp).
enum class send_status { ok, congested, unreachable, not_connected, too_large, lane_not_connected };
// The status as counters and log lines name it ("congested", ...).
[[nodiscard]] const char* describe(send_status status);

struct inbound {
    core::link from;
    transport::frame frame;
    bool connection_lost = false;  // a socket-monitor event, not a message: frame is empty
};

class zmq_transport {
public:
    // Binds the ROUTER (and PUB for servers). Throws transport_error when binding fails.
    explicit zmq_transport(transport_options options);
    ~zmq_transport();
    zmq_transport(const zmq_transport&) = delete;
    zmq_transport& operator=(const zmq_transport&) = delete;

    [[nodiscard]] const std::string& bound_router_endpoint() const { return _router_endpoint; }
    [[nodiscard]] const std::string& bound_pub_endpoint() const { return _pub_endpoint; }
    [[nodiscard]] wakeup_pipe& wakeup() { return *_wakeup; }

    // Throws transport_error when the sockets cannot be made, or curve is on and server_key
    // (the dialed node's public key) is not one; nothing of the dial is kept then.
    void dial(const std::string& endpoint, const std::string& server_key = {});
    void hang_up(const std::string& endpoint);
    // Throws transport_error as dial does for the publisher's key.
    void subscribe(const std::string& pub_endpoint, const std::string& server_key = {});
    void unsubscribe(const std::string& pub_endpoint);

    // channel empty: the control connection; else lane `lane` of that channel's connections.
    // On ok the frame's bytes are gone to ZeroMQ (it is left empty); otherwise it is intact,
    // so a congested frame can wait and go later.
    [[nodiscard]] send_status send(const core::link& to, frame& message, std::string_view channel = {},
                                   std::uint32_t lane = 0);
    // From now until the peer's next session (its control connection announcing itself
    // again), frames for this lane of an accepted peer take the control connection.
    void use_control_connection(const core::link& to, std::string_view channel, std::uint32_t lane);
    // Two-part message [stream topic][frame]; subscribers filter by topic (servers: mesh,
    // clients: clients), see docs/protocol.md §4.
    [[nodiscard]] send_status publish(core::effect::stream stream, std::string_view frame);

    // A poll in three steps: prepare_wait returns the timeout to wait with (0 when a socket
    // is readable already), wait_for_input waits up to it, collect drains what is ready (at
    // most batch_max messages per socket) into out and returns true when the wake-up pipe
    // fired. Split so the reactor can lend the sockets to another thread while it sleeps:
    // wait_for_input touches nothing but the epoll set, so it alone may run meanwhile.
    // timeout nullopt: until input (or the transport's own next deadline).
    [[nodiscard]] int prepare_wait(std::optional<std::chrono::milliseconds> timeout);
    // Never throws (it runs while the reactor has lent its turn): a failure comes back as
    // -errno, and collect, run under the turn again, reports it.
    [[nodiscard]] int wait_for_input(int timeout_ms) noexcept;
    bool collect(int fired, std::vector<inbound>& out, std::size_t batch_max = 256);
    // After another thread sent while the reactor slept: true when a send may have consumed
    // a socket's descriptor signal and that socket is readable, so the reactor must be woken
    // to drain it (collect() drains it then).
    [[nodiscard]] bool settle_after_foreign_sends();

    [[nodiscard]] std::size_t dealer_count() const { return _dealers.size(); }
    // By default closing drops whatever is still queued (a stop is as abrupt as a crash);
    // after a leave the goodbyes get up to linger_ms to go out.
    void flush_on_close(bool flush) { _flush_on_close = flush; }
    [[nodiscard]] std::uint64_t malformed_frames() const { return _malformed_frames; }

    [[nodiscard]] bool curve_enabled() const { return !_options.curve_secret_key.empty(); }
    // Any thread: replaces the allow list (curve on; otherwise nothing changes).
    allow_list_change set_allowed_keys(std::set<std::string> keys);
    // For metrics: how many of the node's sockets run each ZMQ_MECHANISM ("CURVE", "NULL"...),
    // and what the ZAP handler and the handshake watch counted.
    [[nodiscard]] std::map<std::string, std::uint64_t> security_counters() const;

private:
    void apply_common_options(zmq::socket_t& socket) const;
    std::unique_ptr<zmq::socket_t> dialing_socket(const std::string& routing_id, const std::string& endpoint,
                                                  const std::string& server_key);
    void make_curve_server(zmq::socket_t& socket) const;
    void make_curve_client(zmq::socket_t& socket, const std::string& server_key) const;
    void check_server_key(const std::string& endpoint, const std::string& server_key) const;
    // Socket monitors report closed connections (a crashed peer's TCP reset) at once.
    struct monitor;
    // listening: also watch its handshakes, logging each one refused with the peer's address.
    void start_monitor(zmq::socket_t& socket, core::link which, bool listening = false);
    void stop_monitor(zmq::socket_t& socket);
    void drain_monitor(monitor& which, std::vector<inbound>& out);
    // Rebuilt only when sockets come or go, not per poll.
    void rebuild_poll_items();
    // Every socket that closes passes through here first: its poll source, the lists that
    // name it and the record of its use let go of it, so nothing reads it after it is freed
    // (the next prepare_wait rebuilds the poll set from the sockets still open).
    void forget_socket(zmq::socket_t& socket);
    [[nodiscard]] zmq::socket_t* lane_socket(std::string_view endpoint, std::string_view channel, std::uint32_t lane);

    transport_options _options;
    std::shared_ptr<zmq::context_t> _context;  // transport/zmq_context.hpp
    std::unique_ptr<zap_handler> _zap;         // curve only; made before any socket binds
    std::unique_ptr<zmq::socket_t> _router;
    std::unique_ptr<zmq::socket_t> _pub;
    std::unique_ptr<zmq::socket_t> _sub;
    std::unique_ptr<wakeup_pipe> _wakeup;
    std::map<std::string, std::unique_ptr<zmq::socket_t>> _dealers;  // by router endpoint
    // Data connections per dial: endpoint -> channel -> one socket per lane. Keyed with
    // transparent comparison so a send looks one up without building a string.
    using lane_sockets = std::vector<std::unique_ptr<zmq::socket_t>>;
    std::map<std::string, std::map<std::string, lane_sockets, std::less<>>, std::less<>> _lanes;
    std::map<std::string, int> _subscriptions;  // pub endpoint -> references (connect once)
    struct monitor {
        void* watched = nullptr;  // the monitored socket's handle
        core::link which;
        std::unique_ptr<zmq::socket_t> events;  // PAIR receiving the monitor's events
        bool listening = false;
        bool reports_disconnects = true;
        // Listening sockets: each accepted connection by descriptor, and why the last
        // handshake failed (libzmq reports the failure, then the disconnection). libzmq's
        // success event names no connection: it is given to the oldest one still shaking hands.
        struct accepted_peer {
            std::string address;
            std::uint64_t order = 0;
            bool handshaken = false;
        };
        std::map<int, accepted_peer> peers;
        std::uint64_t accepted_count = 0;
        std::string failure;
    };
    void note_handshake_event(monitor& which, std::uint16_t event, std::uint32_t value);
    std::uint64_t _handshakes_refused = 0;
    // A dialing socket whose handshake was refused (a key not yet on the peer's allow list)
    // is given up by libzmq for good: it is made again after a pause, so a SIGHUP on the peer
    // lets it in without a restart. Keys by endpoint, for the new sockets.
    std::map<std::string, std::string> _dial_keys;
    std::map<std::string, std::string> _subscription_keys;
    std::map<std::string, std::chrono::steady_clock::time_point> _redials;
    std::map<std::string, std::chrono::steady_clock::time_point> _resubscriptions;
    void note_refused_dial(const monitor& which, std::string_view endpoint);
    void retry_refused_connections();
    refusal_log _refusals;
    // Each on the heap, so a poll source can point at its monitor while others come and go.
    std::vector<std::unique_ptr<monitor>> _monitors;
    // What each polled descriptor is. ZeroMQ sockets are polled by their ZMQ_FD, which only
    // says "look at ZMQ_EVENTS"; reading ZMQ_EVENTS costs system calls, so it is read only for
    // sockets whose descriptor fired, that were left undrained, or that were used since the
    // last poll and ever received anything (a send may consume the descriptor's signal).
    // zmq_poll reads it for every socket twice per call and registers every descriptor with
    // the kernel on each call; a persistent epoll set does neither, and on this path those
    // system calls would be most of a round trip's cost.
    struct poll_source {
        enum class kind { wakeup, router, sub, dealer, lane, monitor } what;
        // Null once the socket closed (forget_socket), until the next rebuild drops the source.
        zmq::socket_t* socket = nullptr;
        const std::string* endpoint = nullptr;  // dealers and lanes: the dial they belong to
        monitor* of_monitor = nullptr;
        bool recheck = false;       // listed in _to_recheck: read ZMQ_EVENTS before sleeping
        bool received_any = false;  // a socket that never received needs no recheck after a send
        bool ready = false;         // listed in _ready: ZMQ_EVENTS said readable
        // Finding a socket empty costs a failed receive, which reads the socket's mailbox
        // with a system call or two. A socket that brought one message at a time lately
        // (request and response) is drained of one, and whether more wait is left to the
        // recheck before the next wait: after the reply has gone out, not before.
        bool expect_one = false;
        bool cut_short = false;  // its last drain took one message and did not look further
    };
    // Index lists, so a poll touches only the sources that need it, not every socket.
    std::vector<std::size_t> _to_recheck;
    std::vector<std::size_t> _ready;
    void queue_recheck(std::size_t index);
    void mark_ready(std::size_t index);
    std::vector<poll_source> _poll_sources;
    std::unordered_map<void*, std::size_t> _source_of_socket;  // zmq handle -> index
    std::vector<void*> _used_since_poll;                       // handles of sockets sent on or reconfigured
    int _epoll_fd = -1;
    std::vector<epoll_event> _epoll_events;
    // Every socket's ZMQ_EVENTS is read at least this often while sockets are used, so a
    // descriptor signal consumed where the rules above did not expect it delays a message by
    // this much, never forever. Sockets nobody touched since keep their signals: no recheck.
    static constexpr std::chrono::milliseconds full_recheck_period{50};
    std::chrono::steady_clock::time_point _next_full_recheck{};
    bool _used_since_full_recheck = true;
    bool _poll_dirty = true;
    void mark_used(zmq::socket_t& socket);
    void queue_rechecks_of_used_sockets();
    // Reads ZMQ_EVENTS of the sockets queued for it; true when any is readable.
    bool read_queued_rechecks();
    // Every socket is looked at again next poll; anything but EINTR then throws transport_error.
    void recover_from_poll_error(const zmq::error_t& error);
    // Drains one source into out; false when it stopped at batch_max with more waiting.
    bool drain_source(poll_source& source, std::vector<inbound>& out, std::size_t batch_max);
    std::string _routing_scratch;  // lane routing ids built per send without allocating
    // Lanes given up on (use_control_connection): their frames take the control connection
    // until the peer's next session (its control connection announcing itself again).
    std::unordered_set<std::string> _lanes_given_up;
    static constexpr std::size_t lanes_listed_max = 65536;
    void connection_announced(std::string_view routing_id);
    std::string _router_endpoint;
    std::string _pub_endpoint;
    std::uint64_t _malformed_frames = 0;
    bool _flush_on_close = false;  // multipart shapes we do not speak
};

}  // namespace zpartisan::transport
