// reactor: the workers. Each node has two worker threads that trade two roles: one leads (holds
// the turn: polls, steps the core, applies its effects) while the other runs the application's
// handlers or follows, waiting to take the lead when the leader leaves it to run handlers (the
// leader/follower pattern: one thread does all of a message's work, no hand-off per message).
// The locks they take and their order are written down once, in reactor.hpp ("Locks").
#include <spdlog/spdlog.h>

#include "runtime/reactor.hpp"
#include "runtime/thread_name.hpp"

namespace zpartisan::runtime {

namespace {
// The reactor whose turn this thread holds as its leader (see reactor::lead).
thread_local const reactor* t_leading = nullptr;
// The reactor this thread is a worker of (leading, running handlers or following).
thread_local const reactor* t_worker = nullptr;
}  // namespace

bool reactor::on_reactor_thread() const { return t_leading == this; }
bool reactor::on_worker_thread() const { return t_worker == this; }

void reactor::work(std::size_t index) {
    name_this_thread("zpw" + std::to_string(index), _config.name);
    t_worker = this;
    std::unique_lock roles(_roles_mutex);
    std::uint64_t handoffs_seen = 0;
    while (!_shut_down) {
        if (!_leader_present) {
            _leader_present = true;
            roles.unlock();
            const auto outcome = lead();
            roles.lock();
            if (outcome == lead_outcome::shut_down) {
                _shut_down = true;
                _roles_changed.notify_all();
                return;
            }
            // lead() left the lead to run the handlers (see follower_period).
            ++_handoffs;
            if (_follower_sleeps_untimed) _roles_changed.notify_all();
            run_handlers(roles);
            continue;
        }
        if (!_runner_present && !_stop_requested && _messages->has_work()) {
            _runner_present = true;
            run_handlers(roles);
            continue;
        }
        // While the lead changes hands, look every follower_period for a runner that kept it
        // too long; once it stops changing hands, sleep until woken.
        _follower_sleeps_untimed = handoffs_seen == _handoffs;
        handoffs_seen = _handoffs;
        if (_follower_sleeps_untimed)
            _roles_changed.wait(roles);
        else
            _roles_changed.wait_for(roles, follower_period);
        _follower_sleeps_untimed = false;
    }
}

void reactor::run_handlers(std::unique_lock<std::mutex>& roles) {
    // _runner_present is set: no other thread runs handlers meanwhile, so they keep their order.
    // The last look at the queue is under roles_mutex, where a leader that queued more
    // deliveries looks at _runner_present: either this sees them or the leader sees no runner.
    do {
        roles.unlock();
        while (!_stop_requested && _messages->run_queued(_stop_requested)) {}
        roles.lock();
    } while (!_stop_requested && _messages->has_work());
    _runner_present = false;
}

reactor::lead_outcome reactor::lead() {
    t_leading = this;
    std::unique_lock turn(_turn);
    _idle = false;
    while (!_stop_requested) {
        ++_wakeups;
        _core_unacked.store(_core->unacked_count(), std::memory_order_relaxed);  // acks, expiries
        const auto now = now_ms();
        _core_due = _core->next_deadline_ms(now);
        auto wait_ms = wait_budget_ms(now);  // reactor_sleep.cpp: nullopt sleeps until input
        // Senders wake us only while we wait (enqueue_send): announce the wait, then look at
        // the queue once more, so a message queued in between is not left for the next turn.
        _waiting.store(true);
        if (wait_ms != std::uint64_t{0}) {
            std::lock_guard lock(_send_mutex);
            if (!_send_queue.empty()) wait_ms = 0;
        }
        _inbound.clear();
        try {
            const int timeout_ms =
                _transport->prepare_wait(wait_ms ? std::optional(std::chrono::milliseconds(*wait_ms)) : std::nullopt);
            _idle = true;
            turn.unlock();
            const int fired = _transport->wait_for_input(timeout_ms);
            turn.lock();
            _idle = false;
            _transport->collect(fired, _inbound);
        } catch (const transport::transport_error& e) {
            _waiting.store(false);
            spdlog::error("[{}] {}", _config.name, e.what());
            note_stop_reason(std::string("transport error: ") + e.what());
            _stop_requested = true;
            break;
        }
        _waiting.store(false);
        if (_core->has_output()) apply_output();  // left by a direct send (send_directly)
        run_commands();
        retry_stalled();
        drain_send_queue();  // a message for a congested hop waits behind what already waits for it
        if (!_inbound.empty() || _core->holds_deliveries()) {
            _deliveries_backlogged = _messages->backlogged();
            _core->set_deliveries_backlogged(_deliveries_backlogged);
        }
        for (auto& message : _inbound) handle_inbound(message);
        drain_send_queue();  // what inline handlers just sent
        // Due as of the wait's start; what the inputs since made due (a deadline they brought
        // forward) is found at the next turn, which then does not wait.
        if (const auto tick_at = now_ms(); _core_due && tick_at >= *_core_due) {
            _core->tick(tick_at);
            apply_output();
        }
        if (snapshot_stale()) refresh_route_snapshot();
        check_waiters();
        persist_if_due(false);
        if (!_config.inline_handlers && _messages->has_work()) {
            // Deliveries are waiting and nobody runs handlers: this thread runs them at once
            // and the other worker takes the lead, so a message reaches its handler without
            // a thread hand-off (the leader/follower pattern).
            std::lock_guard roles(_roles_mutex);
            if (!_runner_present) {
                _runner_present = true;
                _leader_present = false;
                _idle = true;  // until the next leader takes the turn, senders may borrow it
                t_leading = nullptr;
                return lead_outcome::run_handlers;
            }
        }
    }
    persist_if_due(true);
    {
        std::lock_guard lock(_mutex);
        _accepting = false;
    }
    run_commands();  // commands queued before _accepting flipped still get their answer
    stop_waiters("node stopped");
    fail_reports_at_shutdown();
    _thread_exited = true;
    t_leading = nullptr;
    return lead_outcome::shut_down;
}

}  // namespace zpartisan::runtime
