// One node's reactor: the single thread that owns the transport and the pure core. It polls
// the sockets with a timeout up to the next tick, decodes, steps the core, ticks it, and
// applies the effects in the order the core emitted them. Application threads reach it only
// through call()/post(), which travel over the wake-up pipe (the czmq actor pattern).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "core/peer_service.hpp"
#include "transport/zmq_transport.hpp"
#include "zpartisan/config.hpp"
#include "zpartisan/errors.hpp"

namespace zpartisan::runtime {

class reactor {
public:
    // Binds the sockets (throws error on failure) and starts the thread.
    explicit reactor(config cfg);
    ~reactor();
    reactor(const reactor&) = delete;
    reactor& operator=(const reactor&) = delete;

    void stop();
    [[nodiscard]] bool stopped() const { return _thread_exited.load(); }
    [[nodiscard]] const config& cfg() const { return _config; }
    [[nodiscard]] const node_spec& advertised_self() const { return _advertised_self; }

    // Runs fn(core, now_ms) on the reactor thread, applies the effects it caused, and
    // returns fn's result. Once the reactor has stopped, fn runs on the caller's thread and
    // its effects are discarded (there is no transport left to apply them to).
    template <class F>
    auto call(F fn) -> std::invoke_result_t<F, core::peer_service&, std::uint64_t> {
        using result_t = std::invoke_result_t<F, core::peer_service&, std::uint64_t>;
        auto task = std::make_shared<std::packaged_task<result_t()>>(
            [this, fn = std::move(fn)]() mutable { return fn(*_core, now_ms()); });
        auto result = task->get_future();
        if (std::this_thread::get_id() == _thread.get_id()) {
            (*task)();
            apply_output();
            return result.get();
        }
        {
            std::unique_lock lock(_mutex);
            if (!_accepting) {
                (*task)();
                (void)_core->take_output();
                return result.get();
            }
            _commands.emplace_back([this, task] {
                (*task)();
                apply_output();
            });
        }
        _transport->wakeup().notify();
        return result.get();
    }

    // Starts a join and resolves the future when it completes (spec.md §2 sync_join).
    std::future<op_result> join_and_wait(const std::string& endpoint, std::chrono::milliseconds timeout);

    [[nodiscard]] std::map<std::string, std::uint64_t> counters();

private:
    struct join_waiter {
        std::string endpoint;
        std::uint64_t deadline_ms = 0;
        std::promise<op_result> done;
    };

    void run();
    void run_commands();
    void handle_inbound(transport::inbound& message);
    void apply_output();
    void check_waiters();
    void count(const std::string& what) { ++_counters[what]; }
    [[nodiscard]] std::uint64_t now_ms() const;

    config _config;
    std::chrono::steady_clock::time_point _started_at;
    std::unique_ptr<transport::zmq_transport> _transport;
    node_spec _advertised_self;
    std::unique_ptr<core::peer_service> _core;
    std::uint64_t _tick_ms = 10;

    std::mutex _mutex;  // guards _commands and _accepting
    std::deque<std::function<void()>> _commands;
    bool _accepting = true;  // false once the thread stopped taking commands

    std::vector<join_waiter> _waiters;             // reactor thread only
    std::map<std::string, std::uint64_t> _counters;  // reactor thread only: decode and send failures
    std::atomic<bool> _stop_requested{false};
    std::atomic<bool> _thread_exited{false};
    std::thread _thread;
};

}  // namespace zpartisan::runtime
