// reactor: the outbox (docs/architecture.md, "A message out"): a send is refused at once, sent
// under a borrowed turn, bundled with the one before it, or queued for the leader to drain;
// senders route from a snapshot of the core's routes taken at one route epoch.
#include <spdlog/spdlog.h>

#include "runtime/cycle_clock.hpp"
#include "runtime/outgoing_frames.hpp"
#include "runtime/reactor.hpp"
#include "wire/routed_codec.hpp"

namespace zpartisan::runtime {

namespace {
// Big enough that a burst of small messages becomes one frame, small enough that one bundle
// does not hold a link (and the relays' queues) for long.
constexpr std::size_t bundle_max_bytes = 64 * 1024;
constexpr std::size_t bundle_start_bytes = 4 * 1024;
}  // namespace

std::size_t reactor::bundle_limit_locked(std::string_view destination) const {
    if (!_snapshot.lower_limits) return std::min(bundle_max_bytes, _config.max_message_bytes);  // no lookup per message
    const auto route = _snapshot.routes.find(destination);
    const auto hop_limit = route == _snapshot.routes.end() ? _config.max_message_bytes : route->second.frame_limit;
    return std::min<std::size_t>({bundle_max_bytes, _config.max_message_bytes, hop_limit});
}

bool reactor::join_last_bundle(const wire::forward_fields& request) {
    if (_send_queue.empty()) return false;
    auto& last = _send_queue.back();
    if (last.entries == 0 || last.msg.destination != request.destination || last.msg.handler != request.handler ||
        last.msg.kind != request.kind || last.msg.channel != request.channel || last.msg.lane != request.lane ||
        last.msg.reply_to != request.reply_to)
        return false;
    if (last.bundle.size() + wire::bundle_entry_overhead + request.payload.size() >
        bundle_limit_locked(request.destination))
        return false;
    wire::append_bundle_entry(last.bundle, request.payload);
    ++last.entries;
    return true;
}

send_status reactor::enqueue_send(wire::forward_fields request, std::function<void(const delivery_report&)> on_report) {
    request.origin = _advertised_self.name;
    request.origin_incarnation = _advertised_self.incarnation;
    request.hops = 0;
    request.id = 0;
    request.bundled = false;
    if (!wire::encodable(request)) return send_status::too_large;
    const auto frame_bytes = wire::encoded_size(request) + wire::bundle_entry_overhead;
    if (frame_bytes > _config.max_message_bytes) return send_status::too_large;
    // A plain message to another node is encoded here, on the sending thread, into the bundle
    // the reactor will send: the reactor only picks its route. Acked and local messages go
    // through the core (ids, retransmission, local delivery).
    const bool bundled = !request.ack && request.destination != _advertised_self.name;
    // Whoever holds the turn sends a plain message itself: a sleeping reactor lends it, which
    // spares the message a thread hand-off, and the reactor's own thread (an inline handler)
    // holds it already, so its lone message goes out at once rather than after the rest of
    // the handler's batch. Not within a burst, though: there the reactor packs what queues
    // into bundles, which carry far more messages per second than one send each.
    const auto started = cycle_now();
    const bool in_burst = started - _last_send_ended.load(std::memory_order_relaxed) < _burst_gap_cycles;
    struct note_end {
        std::atomic<std::uint64_t>& at;
        ~note_end() { at.store(cycle_now(), std::memory_order_relaxed); }
    } noted{_last_send_ended};
    const bool leading = on_reactor_thread();
    std::unique_lock turn(_turn, std::defer_lock);
    if (bundled && !in_burst && !leading && turn.try_lock() && !_idle) turn.unlock();
    const bool holds_turn = leading || turn.owns_lock();
    bool wake = false;
    bool direct = false;
    {
        std::lock_guard lock(_send_mutex);
        if (!_snapshot.running || stopped()) return send_status::stopped;
        auto route = _snapshot.routes.find(request.destination);
        if (route == _snapshot.routes.end()) return send_status::unknown_node;
        if (const auto refused = refusal_of(route->second.status, request.ack); refused != send_status::ok)
            return refused;
        // The next hop said in its handshake how large a frame it takes: refused here, not
        // dropped there.
        if (frame_bytes > route->second.frame_limit) return send_status::too_large;
        if (_queued_sends >= _config.send_queue_max) return send_status::congested;
        // The retransmit buffer is bounded: an acked message that would not fit is refused
        // now, not dropped after the caller heard ok.
        if (request.ack && _acked_queued + _core_unacked.load(std::memory_order_relaxed) >= _unacked_max)
            return send_status::congested;
        // Numbered here, where the order of the queue and of direct sends is decided; an entry
        // that joins a queued bundle leaves its number unused, which a receiver never misses.
        if (bundled) request.id = ++_plain_frames_sent;
        // Only behind nothing: a message still queued or stalled goes first.
        direct = bundled && !in_burst && holds_turn && !_draining_sends && _send_queue.empty() && _flow.empty();
        if (!direct) wake = queue_locked(request, on_report, bundled, in_burst);
    }
    if (direct) return leading ? send_from_reactor(request) : send_directly(request);
    // On the reactor thread (an inline handler) the queue is drained before the next poll.
    if (wake && !leading) _transport->wakeup().notify();
    return send_status::ok;
}

bool reactor::queue_locked(const wire::forward_fields& request, std::function<void(const delivery_report&)>& on_report,
                           bool bundled, bool in_burst) {
    ++_queued_sends;
    if (bundled && join_last_bundle(request)) return false;  // the reactor is already due
    pending_send pending;
    if (bundled) {
        // Room for a burst's first few dozen small messages up front, so the bundle is not
        // regrown for each. In a stream (a burst into an empty queue, or after a bundle that
        // filled at least halfway) the bundle gets its full size at once: regrowing it on the
        // sending thread is a large share of a stream of small messages' cost. Otherwise it starts
        // small, so a burst that alternates destinations does not reserve the maximum per
        // message; either way what is reserved stays within twice what is queued, plus one
        // bundle, and a bundle that leaves sparse is shrunk before ZeroMQ holds it
        // (drain_send_queue).
        const auto limit = bundle_limit_locked(request.destination);
        const bool stream = in_burst && (_send_queue.empty() || _send_queue.back().bundle.size() >= limit / 2);
        pending.bundle.reserve(stream ? limit : std::min(bundle_start_bytes, limit));
        wire::start_bundle(request, pending.bundle);
        wire::append_bundle_entry(pending.bundle, request.payload);
        pending.entries = 1;
    } else {
        pending.msg.payload.assign(request.payload);  // the core keeps it (retransmission, local delivery)
    }
    pending.msg.destination.assign(request.destination);
    pending.msg.handler.assign(request.handler);
    pending.msg.kind = request.kind;
    pending.msg.channel.assign(request.channel);
    pending.msg.lane = request.lane;
    pending.msg.ack = request.ack;
    pending.msg.reply_to.assign(request.reply_to);
    pending.on_report = std::move(on_report);
    if (request.ack) ++_acked_queued;
    _send_queue.push_back(std::move(pending));
    // Seen under the lock the reactor takes to look at the queue before it waits: either
    // it saw this message, or it had announced its wait and is woken here. An awake
    // reactor drains the queue before waiting again, so it needs no wake-up write.
    return _waiting.load();
}

send_status reactor::send_from_reactor(const wire::forward_fields& request) {
    core::link hop;
    const auto route = _core->app_route(request.destination, &hop);
    if (route != core::route_status::ok) return refusal_of(route, false);
    auto frame = frame_of(request);
    send_frame(hop, frame, request.channel, request.lane, true, core::message_type::forward);
    ++_direct_sends;
    return send_status::ok;
}

send_status reactor::send_directly(const wire::forward_fields& request) {
    if (const auto sent = send_from_reactor(request); sent != send_status::ok) return sent;
    // What only the reactor should do (apply the core's effects, which may run handlers and
    // callbacks; retry a stalled send; publish a new route snapshot), and a socket this send
    // left readable, wake it for.
    bool reactor_needed = _core->has_output() || !_flow.empty() || snapshot_stale();
    try {
        reactor_needed = _transport->settle_after_foreign_sends() || reactor_needed;
    } catch (const transport::transport_error& e) {
        // The reactor's own poll meets the same error and reports it; the send itself went.
        spdlog::debug("[{}] after a direct send: {}", _config.name, e.what());
        reactor_needed = true;
    }
    if (reactor_needed) _transport->wakeup().notify();
    return send_status::ok;
}

void reactor::drain_send_queue() {
    // At most a bounded batch per loop turn: a deep queue must not delay heartbeats and
    // ticks (a silent reactor is a failed node to its peers).
    constexpr std::size_t batch_max = 2048;
    std::unique_lock lock(_send_mutex);
    if (_send_queue.empty()) return;  // the usual case: no deque built (libstdc++ allocates one)
    std::deque<pending_send> batch;
    bool more = false;
    if (_send_queue.size() <= batch_max) {
        batch.swap(_send_queue);
        _queued_sends = 0;
    } else {
        batch.assign(std::make_move_iterator(_send_queue.begin()),
                     std::make_move_iterator(_send_queue.begin() + batch_max));
        _send_queue.erase(_send_queue.begin(), _send_queue.begin() + batch_max);
        for (const auto& taken : batch) _queued_sends -= std::max<std::size_t>(taken.entries, 1);
        more = true;
    }
    lock.unlock();
    if (more) _transport->wakeup().notify();  // come back for the rest right after this turn
    const auto now = now_ms();
    // Handlers the core's output runs in the middle of the batch (local deliveries) queue
    // what they send behind it instead of sending it ahead.
    _draining_sends = true;
    std::size_t acked_taken = 0;
    struct end_drain {
        bool& flag;
        ~end_drain() { flag = false; }
    } ended{_draining_sends};
    for (auto& pending : batch) {
        if (pending.entries > 0) {
            // An acked message queued ahead of this bundle is in the core's output: it goes
            // out first, so one flow keeps its order across the two kinds. The route is
            // looked up after it, as that output may move routes (a peer found gone).
            if (_core->has_output()) apply_output();
            core::link hop;
            const auto status = _core->app_route(pending.msg.destination, &hop);
            if (status == core::route_status::ok) {
                // A stream's bundle is reserved whole (queue_locked); one that leaves sparse
                // must not keep that room while ZeroMQ queues it, up to a high-water mark of
                // them: its bytes move to an exact-size buffer (a copy of what it holds).
                if (pending.bundle.capacity() > 2 * pending.bundle.size()) pending.bundle.shrink_to_fit();
                transport::frame frame(std::move(pending.bundle));
                send_frame(hop, frame, pending.msg.channel, pending.msg.lane, true, core::message_type::forward);
                ++_bundles_out;
                _bundled_messages_out += pending.entries;
            } else {
                // The route went away while the messages waited (the send said ok): dropped,
                // as a plain send may be, but counted.
                _counters["sends_failed_after_queueing"] += pending.entries;
            }
            continue;
        }
        const auto destination = pending.msg.destination;
        if (pending.msg.ack) ++acked_taken;
        std::uint64_t id = 0;
        const auto status = _core->send_app(std::move(pending.msg), now, &id);
        if (status != core::route_status::ok && status != core::route_status::unreachable) {
            count("sends_failed_after_queueing");
            if (pending.on_report)
                _events->post_task([fn = std::move(pending.on_report), destination, status] {
                    fn(delivery_report{destination, false,
                                       status == core::route_status::congested ? "congested"
                                       : status == core::route_status::stopped ? "stopped"
                                                                               : "no route"});
                });
            continue;
        }
        if (id != 0 && pending.on_report) _report_callbacks.emplace(id, std::move(pending.on_report));
    }
    apply_output();
    // The acked ones leave the queue's count only now that the core counts them: senders
    // may count them twice meanwhile, which errs on the side of congested, never past the bound.
    _core_unacked.store(_core->unacked_count(), std::memory_order_relaxed);
    if (acked_taken > 0) {
        std::lock_guard relock(_send_mutex);
        _acked_queued -= acked_taken;
    }
}

void reactor::refresh_route_snapshot() {
    follow_routes();
    (void)_flow.take_hops_changed();  // the snapshot taken now sees the hops as they are
    // Every member's route is recomputed (cheap: no copies), but senders are locked out only
    // to write the few that differ. A large cluster changes a handful of routes at a time,
    // and rebuilding the whole map on each change made 200 nodes in one process spend most
    // of their time here.
    _route_updates.clear();
    std::size_t still_listed = 0;
    bool lower_limits = false;
    _core->for_each_route_status([&](const std::string& name, core::route_status status) {
        const route_entry entry{route_for_senders(name, status), _core->frame_limit_to(name)};
        lower_limits = lower_limits || entry.frame_limit < _config.max_message_bytes;
        const auto it = _snapshot.routes.find(name);
        if (it != _snapshot.routes.end()) ++still_listed;
        if (it == _snapshot.routes.end() || it->second != entry) _route_updates.emplace_back(&name, entry);
    });
    const bool running = _core->running();
    const bool removals = still_listed < _snapshot.routes.size();
    if (!_route_updates.empty() || removals || running != _snapshot.running) {
        std::lock_guard lock(_send_mutex);
        _snapshot.running = running;
        _snapshot.lower_limits = lower_limits;
        for (const auto& [name, entry] : _route_updates) _snapshot.routes.insert_or_assign(*name, entry);
        if (removals)
            std::erase_if(_snapshot.routes,
                          [&](const auto& entry) { return !_core->membership().contains(entry.first); });
    }
    _snapshot_epoch = _core->route_epoch();
}

}  // namespace zpartisan::runtime
