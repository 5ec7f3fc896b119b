// One node's reactor: the transport and the pure core, and the two worker threads that take
// turns driving them (leader/follower: reactor_workers.cpp). Whichever worker holds the turn
// polls the sockets until the core's next deadline (none: until input), decodes, steps the
// core, ticks it when due, and applies the effects in the order the core emitted them
// (reactor_effects.cpp); the other runs the application's handlers or waits to lead.
// Application threads reach it through call() and enqueue_send() (reactor_outbox.cpp), which
// travel over the wake-up pipe (the czmq actor pattern); only while the leader sleeps may a
// sender borrow the turn to send a message itself. docs/architecture.md draws the whole path.
//
// Locks, outermost first; a thread holding one takes only those below it:
//   _join_mutex       stop(): one thread joins the workers at a time; held while joining.
//   _turn             who owns the core, the transport and everything "reactor thread only";
//                     the leader holds it except while it waits for input (then _idle is set
//                     and a sender may take it: enqueue_send).
//   _roles_mutex      the workers' roles (_leader_present, _runner_present, ...); taken by a
//                     leader under _turn when it hands handlers over.
//   _send_mutex       the send queue and the senders' route snapshot; under _turn or alone.
//   _mutex            the command queue (call()); under _turn or alone.
//   the dispatchers'  message_dispatcher / event_dispatcher queues: leaves, taken under any of
//                     the above (a leader posts deliveries; a runner looks for work under
//                     _roles_mutex).
//   _stop_reason_mutex  a leaf.
// Handlers run on a worker that is not leading, and callbacks on the callback thread, holding
// none of these, so either may call back into the node; inline handlers (config) are the
// exception: they run on the leader, under _turn.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "core/flow_control.hpp"
#include "core/log_limiter.hpp"
#include "core/peer_service.hpp"
#include "runtime/event_dispatcher.hpp"
#include "runtime/message_dispatcher.hpp"
#include "runtime/state_store.hpp"
#include "transport/zmq_transport.hpp"
#include "wire/routed_codec.hpp"
#include "zpartisan/config.hpp"
#include "zpartisan/errors.hpp"
#include "zpartisan/messaging.hpp"
#include <unordered_map>

namespace zpartisan::runtime {

class reactor {
public:
    // Binds the sockets (throws error on failure) and starts the thread.
    explicit reactor(config cfg);
    ~reactor();
    reactor(const reactor&) = delete;
    reactor& operator=(const reactor&) = delete;

    // Stops the node and joins its workers (all but the caller's, when a handler stops it).
    void stop();
    // The same without joining anyone: for a handler that destroys its own node (see ~Node).
    void request_stop();
    [[nodiscard]] bool stopped() const { return _thread_exited.load(); }
    // False once the peer service stopped (the node left or was removed) or the reactor did
    // (stop(), destruction, a fatal transport error). stop_reason() names the first of those
    // causes, and is empty while running.
    [[nodiscard]] bool running() const { return !_service_stopped.load() && !stopped(); }
    [[nodiscard]] std::string stop_reason() const;
    // True on the thread that currently leads this reactor (holds its turn): inline handlers
    // run there.
    [[nodiscard]] bool on_reactor_thread() const;
    // True on any of this reactor's workers: in a handler, inline or not.
    [[nodiscard]] bool on_worker_thread() const;
    // True in any of the node's handlers, delivery reports or on_up/on_down callbacks.
    [[nodiscard]] bool on_own_thread() const { return on_worker_thread() || _events->on_dispatcher_thread(); }
    [[nodiscard]] const config& cfg() const { return _config; }
    [[nodiscard]] const node_spec& advertised_self() const { return _advertised_self; }

    // Runs fn(core, now_ms) on the reactor thread, applies the effects it caused, and
    // returns fn's result. Once the reactor has stopped, fn runs on the caller's thread and
    // its effects are discarded (there is no transport left to apply them to).
    template <class F>
    auto call(F fn) -> std::invoke_result_t<F, core::peer_service&, std::uint64_t> {
        using result_t = std::invoke_result_t<F, core::peer_service&, std::uint64_t>;
        static_assert(!std::is_void_v<result_t>, "reactor::call needs a result to hand back");
        auto promise = std::make_shared<std::promise<result_t>>();
        auto result = promise->get_future();
        // The caller hears back only after the command's effects went out (a returned
        // leave() has told its peers and deleted its state file).
        auto job = [this, fn = std::move(fn), promise](bool apply_effects) mutable {
            try {
                auto value = fn(*_core, now_ms());
                if (apply_effects) {
                    apply_output();
                    // Senders see what the command did to routes (a partition, a leave) as
                    // soon as it returns, not a send later dropped after queueing.
                    if (snapshot_stale()) refresh_route_snapshot();
                } else {
                    (void)_core->take_output();
                }
                promise->set_value(std::move(value));
            } catch (...) {
                promise->set_exception(std::current_exception());
            }
        };
        if (on_reactor_thread()) {
            job(true);
            return result.get();
        }
        {
            std::unique_lock lock(_mutex);
            if (!_accepting) {
                // No worker takes commands any more: fn runs here, under the turn (the last
                // leader may still be finishing its shutdown), and its effects are dropped.
                lock.unlock();
                std::lock_guard turn(_turn);
                job(false);
                return result.get();
            }
            _commands.emplace_back([job = std::move(job)]() mutable { job(true); });
        }
        _transport->wakeup().notify();
        return result.get();
    }

    // Starts a join and resolves the future when it completes (docs/protocol.md §3 sync_join).
    // expected_name: see core::peer_service::join.
    std::future<op_result> join_and_wait(const std::string& endpoint, std::chrono::milliseconds timeout,
                                         const std::string& expected_name = {}, const std::string& server_key = {});
    [[nodiscard]] bool curve_enabled() const { return _transport->curve_enabled(); }
    // Any thread: the ZAP handler has its own lock.
    transport::allow_list_change set_curve_allowed_keys(std::set<std::string> keys) {
        return _transport->set_allowed_keys(std::move(keys));
    }
    // Injects a partition (docs/protocol.md §7) and calls done exactly once, on the reactor
    // thread (or the caller's, once stopped): ok when its origin holds it, or the reason it was
    // refused or given up. done must not block.
    void inject_partition(const std::string& origin, std::uint32_t ttl, std::function<void(partition_result)> done);

    [[nodiscard]] std::map<std::string, std::uint64_t> counters();
    void set_publish_loss(double ratio) { _publish_loss_ratio = ratio; }  // reactor thread only
    [[nodiscard]] event_dispatcher& events() { return *_events; }
    [[nodiscard]] message_dispatcher& messages() { return *_messages; }

    // Application threads: queue a message for the reactor. Decides what it can at once
    // from the route snapshot (unknown node, partitioned...) and never blocks: a full queue
    // is congested.
    // request names the message as views valid for this call (origin, incarnation, hops and
    // id are filled in here); what is kept is copied before this returns: a message joining
    // a queued bundle costs its payload's bytes and no string.
    send_status enqueue_send(wire::forward_fields request, std::function<void(const delivery_report&)> on_report);

private:
    // Queues a message for the reactor (_send_mutex held); true when the reactor must be
    // woken for it.
    bool queue_locked(const wire::forward_fields& request, std::function<void(const delivery_report&)>& on_report,
                      bool bundled, bool in_burst);
    // A plain message sent on the application's thread while the reactor sleeps and has
    // lent it its turn (_turn held, nothing queued or stalled ahead of it).
    send_status send_directly(const wire::forward_fields& request);
    // The same message sent by whoever holds the turn; on the reactor's own thread (an
    // inline handler) that is all there is to do: its loop applies what the send caused and
    // looks at the socket it used before it sleeps.
    send_status send_from_reactor(const wire::forward_fields& request);
    struct join_waiter {
        std::string endpoint;
        std::uint64_t deadline_ms = 0;
        std::promise<op_result> done;
    };

    // Leader/follower: one or two workers (two unless handlers run inline). The leader owns
    // the turn and runs the reactor; when deliveries wait and no worker runs handlers, the
    // leader leaves the lead and runs them itself, so an arriving message reaches its handler
    // on the thread that received it, with no hand-off on its path. The other worker takes
    // the lead if they run long (follower_period); otherwise the runner takes it back.
    void work(std::size_t index);
    enum class lead_outcome { run_handlers, shut_down };
    lead_outcome lead();
    // Runs queued deliveries until none are left (_runner_present set, roles held
    // on entry and exit).
    void run_handlers(std::unique_lock<std::mutex>& roles);
    void run_commands();
    void fail_reports_at_shutdown();
    void note_stop_reason(std::string reason);  // the first cause is kept
    std::mutex _join_mutex;                     // stop(): one thread joins the workers at a time
    void report_stopped(std::function<void(const delivery_report&)> fn, std::string destination);
    void handle_inbound(transport::inbound& message);
    void apply_output();
    void apply_effects(std::vector<core::output_effect> effects);
    void check_waiters();  // reactor_waiters.cpp, with the other waits' bookkeeping
    void answer_partition(const core::effect::partition_outcome& outcome);
    void stop_waiters(const std::string& why);  // every wait still open hears `stopped`
    void persist_if_due(bool force);
    void drain_send_queue();
    // Data frames that met a full hop: what becomes of them is flow control's decision
    // (core/flow_control.hpp); reactor_stalled.cpp keeps their bytes and sends what it says.
    // While any wait for a hop, senders to the destinations behind it see congested.
    void retry_stalled();
    void stall(const core::link& to, transport::frame frame, std::string_view channel, std::uint32_t lane);
    // Sends one held frame for flow control, which hears how it went (and decides when its
    // lane is given up on for the control connection).
    core::hop_send send_held(const core::link& hop, core::frame_handle handle, bool use_control_connection);
    // After routes moved: held frames follow their destinations' routes (a no-op while
    // nothing is held or the route epoch is the one last followed).
    void follow_routes() {
        if (_flow.routes_to_follow(_core->route_epoch())) follow_moved_routes();
    }
    void follow_moved_routes();
    void release_dropped_frames();  // the frames flow control dropped: their bytes go
    // Sends one frame; a data frame meeting a full queue waits (stall), in order.
    void send_frame(const core::link& to, transport::frame& frame, std::string_view channel, std::uint32_t lane,
                    bool data, core::message_type type);
    // A forward or ack for someone else: relayed from its header, the frame sent on as it came.
    void relay_in_place(transport::inbound& message, const wire::routed_header& routed);
    // A forward for us: a plain one goes to its handler from views into the frame (true);
    // false leaves it to decode() and the core (acked, or malformed).
    bool deliver_in_place(transport::inbound& message);
    void refresh_route_snapshot();
    // Loads data_dir (a corrupt file: a warning and a fresh start) and picks the incarnation.
    std::optional<core::membership_state> restore_and_choose_incarnation();
    void count(const std::string& what) { ++_counters[what]; }
    // Every line a peer can provoke goes through here: text has the peer's bytes escaped
    // already (core/log_text.hpp); the limiter decides whether it is written.
    void log_about_peer(core::effect::notice::level severity, std::string_view reason, std::string_view peer,
                        const std::string& text);
    [[nodiscard]] std::uint64_t now_ms() const;

    config _config;
    std::chrono::steady_clock::time_point _started_at;
    std::unique_ptr<transport::zmq_transport> _transport;
    node_spec _advertised_self;
    std::unique_ptr<core::peer_service> _core;
    std::unique_ptr<event_dispatcher> _events;      // on_up/on_down, off this thread
    std::unique_ptr<message_dispatcher> _messages;  // handlers, off this thread

    struct pending_send {
        // Bundles keep only the fields a following message must share to join them.
        core::outgoing msg;
        // Plain messages (not acked, not local) are encoded by the sending thread into a
        // bundle, which the messages queued after it for the same destination, handler,
        // kind, channel and lane join until the reactor takes it (wire/routed_codec.hpp).
        std::string bundle;
        std::uint32_t entries = 0;  // > 0: a bundle
        std::function<void(const delivery_report&)> on_report;
    };
    // Appends msg to the newest queued bundle when it may join it (_send_mutex held).
    bool join_last_bundle(const wire::forward_fields& request);
    // What application threads may know without asking the reactor: each member's route.
    // Written only by the reactor, in place, under _send_mutex.
    struct route_entry {
        core::route_status status = core::route_status::unknown_node;
        std::uint64_t frame_limit = 0;  // the largest frame its next hop takes (core::frame_limit_to)
        bool operator==(const route_entry&) const = default;
    };
    struct route_snapshot {
        bool running = true;
        bool lower_limits = false;  // some route's frame_limit is below our max_message_bytes
        std::unordered_map<std::string, route_entry, core::name_hash, std::equal_to<>> routes;
    };
    // The largest bundle for a destination: 64 KiB, or its next hop's frame limit. Under _send_mutex.
    [[nodiscard]] std::size_t bundle_limit_locked(std::string_view destination) const;
    // Whether the core's routes moved since the snapshot was taken.
    [[nodiscard]] bool snapshot_stale() const { return _core->route_epoch() != _snapshot_epoch; }
    // What senders are told of a route: congested while its hop is stalled. Applied by
    // refresh_route_snapshot, which runs when routes move and when a hop stalls or clears, so
    // a route that moves onto or off a stalled hop is marked accordingly.
    [[nodiscard]] core::route_status route_for_senders(const std::string& name, core::route_status status);
    std::mutex _send_mutex;  // guards _send_queue and _snapshot
    std::deque<pending_send> _send_queue;
    std::size_t _queued_sends = 0;  // messages in _send_queue, bundles counted by entries
    std::size_t _acked_queued = 0;  // acked messages in _send_queue
    // Plain frames this process numbered (their id, docs/protocol.md §7 Order), in the order
    // they take in _send_queue or go out directly: a receiver drops one that a later one of
    // its lane overtook.
    std::uint64_t _plain_frames_sent = 0;
    // The core's retransmit buffer: its size as of the reactor's last look, and its bound.
    std::atomic<std::size_t> _core_unacked{0};
    std::size_t _unacked_max = 0;       // set before the workers start
    std::atomic<bool> _waiting{false};  // the reactor is in (or entering) its poll wait
    // The reactor's turn: whoever holds it owns the core and the transport. The reactor holds
    // it except while it waits for input; a sender that takes it then, with _idle set, may
    // send a plain message itself (send_directly) instead of handing it over. Lock order:
    // _turn before _send_mutex.
    std::mutex _turn;
    // Guarded by _turn: the turn is lent (the leader waits for input, or a leader left the
    // lead to run handlers and no worker has taken it yet); false before start and after stop.
    bool _idle = false;
    std::uint64_t _direct_sends = 0;  // guarded by _turn
    bool _draining_sends = false;     // guarded by _turn: drain_send_queue's batch is on its way
    // When the last enqueue_send returned (cycle_clock ticks); a send that follows it closer
    // than burst_gap_us is part of a burst and queues (a TSC tick may come from another core:
    // a "later" end than this start wraps to a large gap, so no burst, which is harmless).
    std::atomic<std::uint64_t> _last_send_ended{0};
    static constexpr std::uint64_t burst_gap_us = 5;
    std::uint64_t _burst_gap_cycles = 0;  // set before the workers start
    route_snapshot _snapshot;             // guarded by _send_mutex
    // The core's route_epoch() when _snapshot was taken (turn holder only, as is the below);
    // none before the first refresh.
    std::optional<std::uint64_t> _snapshot_epoch;
    // Reused by refresh_route_snapshot: entries that differ from the core's routes.
    std::vector<std::pair<const std::string*, route_entry>> _route_updates;
    std::map<std::uint64_t, std::function<void(const delivery_report&)>> _report_callbacks;  // by message id
    std::optional<state_store> _store;  // present when data_dir is set
    bool _persist_dirty = false;        // membership changed since the last write
    std::uint64_t _last_persist_ms = 0;
    static constexpr std::uint64_t persist_coalesce_ms = 50;  // bursts become one write

    std::mutex _mutex;  // guards _commands and _accepting
    std::deque<std::function<void()>> _commands;
    bool _accepting = true;  // false once the thread stopped taking commands

    std::vector<join_waiter> _waiters;                                                // reactor thread only
    std::map<std::string, std::function<void(partition_result)>> _partition_waiters;  // by ref; reactor thread only
    std::map<std::string, std::uint64_t> _counters;  // reactor thread only: decode and send failures
    core::log_limiter _peer_lines;                   // reactor thread only
    // Per-message counters as plain fields (reactor thread only): no map lookup per message.
    std::uint64_t _bytes_received = 0, _bytes_sent = 0, _messages_out = 0, _control_messages_out = 0;
    std::uint64_t _bundles_out = 0, _bundled_messages_out = 0;  // plain application sends, as packed
    double _publish_loss_ratio = 0.0;                           // fault injection: share of publishes dropped
    std::mt19937_64 _fault_rng{0x5eed};
    std::atomic<bool> _stop_requested{false};
    std::atomic<bool> _thread_exited{false};
    std::atomic<bool> _service_stopped{false};  // the core emitted effect::stopped
    mutable std::mutex _stop_reason_mutex;      // guards _stop_reason
    std::string _stop_reason;
    std::mutex _roles_mutex;  // guards the five below
    std::condition_variable _roles_changed;
    bool _leader_present = false;  // a worker leads (or is about to take the turn)
    bool _runner_present = false;  // a worker runs handlers
    bool _shut_down = false;       // the last leader finished the reactor's shutdown
    std::uint64_t _handoffs = 0;   // times a leader left the lead to run handlers
    bool _follower_sleeps_untimed = false;
    // A leader that leaves the lead to run handlers does not wake the other worker: that
    // would cost every message a wake-up. The other worker instead looks every
    // follower_period, while leads change hands, and takes the lead when handlers hold it;
    // only the first hand-off after a quiet spell wakes it. Long enough to cost little,
    // short enough that heartbeats and relaying never notice a slow handler.
    static constexpr std::chrono::milliseconds follower_period{2};
    std::vector<transport::inbound> _inbound;  // the leader's: what one poll collected
    // The leader's: when the core next needs a tick (as of the last wait's start), and the
    // times it went to wait (a counter: an idle node wakes only when something is due).
    std::optional<std::uint64_t> _core_due;
    std::uint64_t _wakeups = 0;
    bool _deliveries_backlogged = false;                           // as last told to the core
    static constexpr std::uint64_t held_deliveries_retry_ms = 10;  // nothing wakes us when the queue drains
    // How long the leader may wait for input (reactor_sleep.cpp): until the core's next
    // deadline or the runtime's own (stalled frames, a coalesced state write, a join's
    // timeout, held deliveries behind a full handler queue); nullopt: until input comes.
    [[nodiscard]] std::optional<std::uint64_t> wait_budget_ms(std::uint64_t now) const;
    // Data frames held for a full hop, by the handle flow control knows them by (turn holder
    // only). The in-place relay and the bundles keep their bytes: a held frame is not copied.
    struct held_frame {
        transport::frame frame;
        std::string channel;
        std::uint32_t lane = 0;
    };
    // A handle is a slot in _held_frames; a freed slot is reused, so holding a frame costs no
    // allocation once the backlog has been this deep.
    std::vector<held_frame> _held_frames;
    std::vector<core::frame_handle> _free_held_slots;
    void free_held_slot(core::frame_handle handle);
    core::flow_control _flow{core::flow_limits{}};  // its limits are set from the config
    core::flow_control::route_lookup _route_of;     // the core's app_route
    // How long frames for a peer's lane that is not connected (yet) wait for it before they
    // take the control connection instead (a peer without that channel, or gone). A lane
    // connects alongside its control connection and reconnects on the same schedule.
    static constexpr std::uint64_t lane_wait_ms = 500;
    std::vector<std::thread> _workers;  // last: they start once everything above exists
};

}  // namespace zpartisan::runtime
