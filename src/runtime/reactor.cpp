#include "runtime/reactor.hpp"

#include "runtime/cycle_clock.hpp"

#include <spdlog/spdlog.h>

#include "wire/codec.hpp"
#include "wire/routed_codec.hpp"

namespace zpartisan::runtime {

namespace {

transport::transport_options transport_options_from(const config& cfg) {
    transport::transport_options options;
    options.name = cfg.name;
    options.node_role = cfg.role;
    options.router_bind_endpoint = cfg.router_bind_endpoint;
    options.pub_bind_endpoint = cfg.pub_bind_endpoint;
    options.max_message_bytes = cfg.max_message_bytes;
    options.send_high_water_mark = cfg.send_high_water_mark;
    options.listen_backlog = cfg.listen_backlog;
    // ZMTP heartbeats recycle dead TCP connections; the protocol's own detector is separate.
    options.zmtp_heartbeat_interval_ms = static_cast<int>(cfg.heartbeat_interval_ms);
    // ZeroMQ takes at most 6,553,500 ms (its TTL travels in deciseconds in 16 bits).
    options.zmtp_heartbeat_timeout_ms = static_cast<int>(
        std::min<std::uint64_t>(std::uint64_t{cfg.heartbeat_interval_ms} * cfg.missed_heartbeats, 6'553'500));
    options.channels = cfg.channels;
    if (!cfg.curve_secret_key.empty()) {
        options.curve_secret_key = cfg.curve_secret_key;
        options.curve_public_key = transport::curve_public_of(cfg.curve_secret_key).value_or("");
        if (options.curve_public_key.empty())
            throw transport::transport_error("curve_secret_key is not a CURVE secret key");
        options.curve_allowed_keys.insert(cfg.curve_allowed_keys.begin(), cfg.curve_allowed_keys.end());
    }
    return options;
}

}  // namespace

reactor::reactor(config cfg) : _config(std::move(cfg)), _started_at(std::chrono::steady_clock::now()) {
    try {
        _transport = std::make_unique<transport::zmq_transport>(transport_options_from(_config));
    } catch (const transport::transport_error& e) {
        throw error("node '" + _config.name + "': " + e.what());
    }
    _advertised_self.name = _config.name;
    _advertised_self.role = _config.role;
    _advertised_self.tag = _config.tag;
    if (!_config.curve_secret_key.empty())
        _advertised_self.public_key = transport::curve_public_of(_config.curve_secret_key).value_or("");
    _advertised_self.router_endpoint = _config.advertised_router_endpoint.empty() ? _transport->bound_router_endpoint()
                                                                                  : _config.advertised_router_endpoint;
    if (_config.role == role::server)
        _advertised_self.pub_endpoint = _config.advertised_pub_endpoint.empty() ? _transport->bound_pub_endpoint()
                                                                                : _config.advertised_pub_endpoint;
    auto restored = restore_and_choose_incarnation();

    core::peer_service_options options;
    options.self = _advertised_self;
    options.cluster_name = _config.cluster_name;
    options.handshake_retry_ms = _config.handshake_retry_ms;
    options.gossip_interval_ms = _config.gossip_interval_ms;
    options.beacon_interval_ms = _config.heartbeat_interval_ms;
    options.heartbeat_interval_ms = _config.heartbeat_interval_ms;
    options.missed_heartbeats = _config.missed_heartbeats;
    options.max_clients = _config.max_clients;
    options.max_peers = _config.max_peers;
    options.max_message_bytes = _config.max_message_bytes;
    options.duplicate_windows_max = _config.duplicate_windows_max;
    options.duplicate_window_gaps_max = _config.duplicate_window_gaps_max;
    options.ack_timeout_ms = _config.ack_timeout_ms;
    // Random per process too: a restart that keeps its incarnation (config.incarnation) still
    // starts its acked-message ids elsewhere, so its peers' duplicate windows do not swallow them.
    options.rng_seed = _advertised_self.incarnation ^ std::hash<std::string>{}(_config.name) ^
                       (std::uint64_t{std::random_device{}()} << 32 | std::random_device{}());
    _unacked_max = options.unacked_max;
    _core = std::make_unique<core::peer_service>(options);
    _events = std::make_unique<event_dispatcher>(_config.name);
    _messages = std::make_unique<message_dispatcher>(_config.name, _config.inline_handlers);

    _core->start(now_ms(), restored ? &*restored : nullptr);
    apply_output();
    persist_if_due(true);  // the new incarnation is durable before anyone hears of it
    refresh_route_snapshot();
    spdlog::info("[{}] {} started: router {} pub {}", _config.name, to_string(_config.role),
                 _advertised_self.router_endpoint,
                 _advertised_self.pub_endpoint.empty() ? "-" : _advertised_self.pub_endpoint);
    _burst_gap_cycles = burst_gap_us * cycles_per_microsecond();
    // A hop that takes nothing for the failure detection time is given up on; one hung hop
    // may hold at most a quarter of the node's backlog, so it cannot crowd out the others.
    _flow = core::flow_control(core::flow_limits{
        _config.send_queue_max, std::max<std::size_t>(_config.send_queue_max / 4, 1),
        std::max<std::uint64_t>(1000, std::uint64_t{_config.heartbeat_interval_ms} * _config.missed_heartbeats),
        lane_wait_ms});
    _route_of = [this](std::string_view destination, core::link* hop) { return _core->app_route(destination, hop); };
    const std::size_t workers = _config.inline_handlers ? 1 : 2;
    for (std::size_t i = 0; i < workers; ++i) _workers.emplace_back([this, i] { work(i); });
}

reactor::~reactor() {
    stop();
    _events->drain_tasks();  // the reports a stop cut short run while the node is whole
}

void reactor::note_stop_reason(std::string reason) {
    std::lock_guard lock(_stop_reason_mutex);
    if (_stop_reason.empty()) _stop_reason = std::move(reason);
}

std::string reactor::stop_reason() const {
    if (running()) return {};
    std::lock_guard lock(_stop_reason_mutex);
    return _stop_reason.empty() ? std::string("stopped") : _stop_reason;
}

void reactor::request_stop() {
    note_stop_reason("stopped by the application (Node::stop or its destruction)");
    _stop_requested = true;
    _transport->wakeup().notify();
    std::lock_guard roles(_roles_mutex);
    _roles_changed.notify_all();
}

void reactor::stop() {
    request_stop();
    // From a handler (a worker's own thread) the others are joined; this one ends once the
    // handler returns, and the destructor, which must not run on a worker, joins it. Several
    // threads may stop the node at once (a report callback and the destructor): one joins
    // at a time, and a thread is joined once.
    std::unique_lock joining(_join_mutex, std::defer_lock);
    if (on_worker_thread()) {
        // A handler stopping its node while another thread joins the workers, this one among
        // them: waiting for that thread would wait for ourselves. It joins the rest.
        if (!joining.try_lock()) return;
    } else {
        joining.lock();
    }
    for (auto& worker : _workers)
        if (worker.joinable() && worker.get_id() != std::this_thread::get_id()) worker.join();
}

std::uint64_t reactor::now_ms() const {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - _started_at).count());
}

void reactor::fail_reports_at_shutdown() {
    // Acked messages in flight or still queued will hear nothing more: their senders hear
    // "stopped" now (a call() returns at once instead of at its timeout), on the callback
    // thread, which no stop() joins. Senders from now on hear stopped at once.
    std::deque<pending_send> queued;
    {
        std::lock_guard lock(_send_mutex);
        _snapshot.running = false;
        queued.swap(_send_queue);
        _queued_sends = 0;
    }
    _core->fail_unacked("stopped");
    for (auto& effect : _core->take_output()) {  // the rest is moot with the sockets closing
        const auto* failed = std::get_if<core::effect::delivery_report>(&effect);
        if (!failed) continue;
        if (auto callback = _report_callbacks.find(failed->id); callback != _report_callbacks.end()) {
            report_stopped(std::move(callback->second), failed->destination);
            _report_callbacks.erase(callback);
        }
    }
    for (auto& pending : queued)
        if (pending.on_report) report_stopped(std::move(pending.on_report), pending.msg.destination);
}

void reactor::report_stopped(std::function<void(const delivery_report&)> fn, std::string destination) {
    _events->post_task([fn = std::move(fn), destination = std::move(destination)] {
        fn(delivery_report{destination, false, "stopped"});
    });
}

void reactor::run_commands() {
    std::unique_lock lock(_mutex);
    if (_commands.empty()) return;  // the usual case: no deque built (libstdc++ allocates one)
    std::deque<std::function<void()>> commands;
    commands.swap(_commands);
    lock.unlock();
    for (auto& command : commands) command();
}

void reactor::handle_inbound(transport::inbound& message) {
    if (message.connection_lost) {
        _core->on_connection_lost(message.from, now_ms());
        apply_output();
        return;
    }
    _bytes_received += message.frame.size();
    // Forwards and acks are read in place: one passing through is sent on as it came, and a
    // plain forward for us goes to its handler without being built as a core message.
    // Anything else, or anything malformed (decode() then says why), is decoded whole.
    if (message.frame.size() <= _config.max_message_bytes) {
        if (const auto routed = wire::peek_routed(message.frame.view())) {
            if (routed->destination != _advertised_self.name) {
                relay_in_place(message, *routed);
                return;
            }
            if (!routed->is_ack && deliver_in_place(message)) return;
        }
    }
    auto decoded = wire::decode(message.frame.view(), _config.max_message_bytes);
    if (!decoded.message) {
        const auto reason = std::string("dropped_decode_") + wire::describe(decoded.error);
        count(reason);
        log_about_peer(core::effect::notice::level::warn, reason, message.from.id,
                       "dropped a frame from '" + core::log_text(message.from.id) + "' (" +
                           std::to_string(message.frame.size()) + " bytes, starting " +
                           core::log_text(message.frame.view(), 16) + "): " + wire::describe(decoded.error) +
                           (decoded.detail.empty() ? "" : ": " + core::log_text(decoded.detail, 256)));
        return;
    }
    _core->on_message(message.from, std::move(*decoded.message), now_ms());
    apply_output();
}

void reactor::relay_in_place(transport::inbound& message, const wire::routed_header& routed) {
    auto hop = _core->relay_hop(message.from, routed.destination, routed.hops, routed.is_ack, now_ms());
    if (hop && message.frame.size() > _core->frame_limit_of(*hop)) {
        count("dropped_too_large_for_next_hop");  // its sender's own next hop took more
        hop.reset();
    }
    if (hop) {
        // The views in `routed` point into the frame; it is not moved before they are used.
        message.frame.data()[wire::hops_offset] = static_cast<char>(routed.hops + 1);
        send_frame(*hop, message.frame, routed.channel, routed.lane, !routed.is_ack,
                   routed.is_ack ? core::message_type::forward_ack : core::message_type::forward);
    }
    if (_core->has_output()) apply_output();  // a peer heard from again, say
}

bool reactor::deliver_in_place(transport::inbound& message) {
    const auto read = wire::read_forward(message.frame.view());
    // Acked ones are the core's (ids, duplicates, the ack itself).
    if (!read || read->fields.ack) return false;
    const auto& f = read->fields;
    const bool admitted = _core->admit_local_delivery(
        message.from, {f.origin, f.origin_incarnation, f.handler, f.channel, f.lane, f.id, read->bundled_entries},
        now_ms());
    if (_core->has_output()) apply_output();  // a peer heard from again, say: first, as on_message's effects
    if (admitted)
        _messages->post(inbound_message{std::string(f.origin), std::string(f.handler),
                                        static_cast<message_kind>(static_cast<int>(f.kind) - 1), std::string(f.channel),
                                        std::string(f.payload), std::string(f.reply_to)},
                        read->bundled_entries);
    return true;
}

std::map<std::string, std::uint64_t> reactor::counters() {
    return call([this](core::peer_service& core, std::uint64_t) {
        auto all = core.counters();
        for (const auto& [name, value] : _counters) all[name] += value;
        all["log_lines_suppressed"] = _peer_lines.suppressed_total();
        all["bytes_received"] += _bytes_received;
        all["bytes_sent"] += _bytes_sent;
        all["messages_out"] += _messages_out;
        all["control_messages_out"] += _control_messages_out;
        all["bundles_out"] += _bundles_out;
        all["bundled_messages_out"] += _bundled_messages_out;
        all["messages_sent_directly"] += _direct_sends;
        all["reactor_wakeups"] = _wakeups;
        all["dropped_malformed_multipart"] += _transport->malformed_frames();
        all["dealers"] = _transport->dealer_count();
        all["callback_failures"] = _events->callback_failures();
        all["events_dropped"] = _events->events_dropped();
        all["messages_handled"] = _messages->delivered();
        all["handler_failures"] = _messages->handler_failures();
        all["dropped_handler_queue_full"] = _messages->overflow_drops();
        all["unacked"] = core.unacked_count();
        _flow.counters().for_each([&](const char* name, std::uint64_t value) {
            if (value > 0) all[name] += value;
        });
        all["stalled_frames"] = _flow.held();  // gauges: frames waiting for full connections
        all["stalled_hops"] = _flow.hops();
        for (const auto& [name, value] : _transport->security_counters()) all[name] = value;
        return all;
    });
}

}  // namespace zpartisan::runtime
