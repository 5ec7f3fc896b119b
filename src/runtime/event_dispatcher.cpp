#include "runtime/event_dispatcher.hpp"

#include <spdlog/spdlog.h>

#include "core/log_text.hpp"
#include "runtime/thread_name.hpp"

#include <algorithm>
#include <future>
#include <memory>
#include <vector>

namespace zpartisan::runtime {

event_dispatcher::event_dispatcher(std::string node_name)
    : _node_name(std::move(node_name)), _thread([this] { run(); }) {}

event_dispatcher::~event_dispatcher() {
    {
        std::lock_guard lock(_mutex);
        _stopping = true;
    }
    _wake.notify_all();
    _thread.join();
}

std::uint64_t event_dispatcher::subscribe(bool on_up, std::string key, callback fn) {
    std::lock_guard lock(_mutex);
    const auto handle = _next_handle++;
    _subscriptions.emplace(handle, subscription{on_up, std::move(key), std::move(fn)});
    return handle;
}

bool event_dispatcher::unsubscribe(std::uint64_t handle) {
    std::lock_guard lock(_mutex);
    return _subscriptions.erase(handle) > 0;
}

void event_dispatcher::post(std::string node, bool up) {
    {
        std::lock_guard lock(_mutex);
        if (_queue.size() >= queue_max) {
            // The oldest event goes; tasks are never dropped.
            const auto oldest = std::find_if(_queue.begin(), _queue.end(), [](const event& e) { return !e.task; });
            if (oldest != _queue.end()) {
                _queue.erase(oldest);
                ++_dropped;
            }
        }
        _queue.push_back({std::move(node), up, {}});
    }
    _wake.notify_one();
}

void event_dispatcher::post_task(std::function<void()> task) {
    {
        std::lock_guard lock(_mutex);
        _queue.push_back({{}, true, std::move(task)});
    }
    _wake.notify_one();
}

void event_dispatcher::drain_tasks() {
    if (on_dispatcher_thread()) return;
    auto done = std::make_shared<std::promise<void>>();
    auto ran = done->get_future();
    post_task([done] { done->set_value(); });
    ran.wait();
}

void event_dispatcher::run_task(const std::function<void()>& task) {
    try {
        task();
    } catch (const std::exception& e) {
        ++_failures;
        spdlog::error("[{}] a delivery report callback threw: {}", _node_name, core::log_text(e.what(), 256));
    } catch (...) {
        ++_failures;
        spdlog::error("[{}] a delivery report callback threw", _node_name);
    }
}

void event_dispatcher::run() {
    name_this_thread("zpe", _node_name);
    for (;;) {
        event next;
        std::vector<callback> targets;
        {
            std::unique_lock lock(_mutex);
            _wake.wait(lock, [this] { return _stopping || !_queue.empty(); });
            if (_stopping) {
                // Events are moot now; reports still owed to senders run.
                auto rest = std::move(_queue);
                _queue.clear();
                lock.unlock();
                for (const auto& item : rest)
                    if (item.task) run_task(item.task);
                return;
            }
            next = std::move(_queue.front());
            _queue.pop_front();
            if (next.task) {
                lock.unlock();
                run_task(next.task);
                continue;
            }
            for (const auto& [handle, sub] : _subscriptions)
                if (sub.on_up == next.up && (sub.key == "*" || sub.key == next.node)) targets.push_back(sub.fn);
        }
        for (const auto& fn : targets) {
            try {
                fn(next.node);
            } catch (const std::exception& e) {
                ++_failures;
                spdlog::error("[{}] {} callback for '{}' threw: {}", _node_name, next.up ? "on_up" : "on_down",
                              core::log_text(next.node), core::log_text(e.what(), 256));
            } catch (...) {
                ++_failures;
                spdlog::error("[{}] {} callback for '{}' threw", _node_name, next.up ? "on_up" : "on_down",
                              core::log_text(next.node));
            }
        }
    }
}

}  // namespace zpartisan::runtime
