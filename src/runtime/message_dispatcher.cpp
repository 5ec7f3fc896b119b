#include "runtime/message_dispatcher.hpp"

#include <spdlog/spdlog.h>

#include <memory>
#include <vector>

namespace zpartisan::runtime {

message_dispatcher::message_dispatcher(std::string node_name, bool inline_delivery)
    : _node_name(std::move(node_name)), _inline(inline_delivery) {
    if (!_inline) _thread = std::thread([this] { run(); });
}

message_dispatcher::~message_dispatcher() {
    if (!_thread.joinable()) return;
    {
        std::lock_guard lock(_mutex);
        _stopping = true;
    }
    _wake.notify_all();
    _thread.join();
}

void message_dispatcher::set_handler(const std::string& name, message_handler fn) {
    std::lock_guard lock(_mutex);
    _handlers[name] = std::make_shared<message_handler>(std::move(fn));
}

bool message_dispatcher::remove_handler(const std::string& name) {
    std::lock_guard lock(_mutex);
    return _handlers.erase(name) > 0;
}

void message_dispatcher::post(inbound_message message) {
    if (_inline) {
        invoke(message);
        return;
    }
    bool was_empty = false;
    {
        std::lock_guard lock(_mutex);
        was_empty = _queue.empty() && _tasks.empty();
        if (_queue.size() >= queue_max) {
            ++_overflow;
            return;
        }
        _queue.push_back(std::move(message));
    }
    if (was_empty) _wake.notify_one();
}

void message_dispatcher::post_task(std::function<void()> fn) {
    if (_inline) {
        run_task(fn);
        return;
    }
    {
        std::lock_guard lock(_mutex);
        _tasks.push_back(std::move(fn));
    }
    _wake.notify_one();
}

void message_dispatcher::invoke(const inbound_message& message) {
    std::shared_ptr<message_handler> handler;
    {
        std::lock_guard lock(_mutex);
        auto it = _handlers.find(message.handler);
        if (it != _handlers.end()) handler = it->second;
    }
    if (!handler) {
        ++_unknown;
        return;
    }
    try {
        (*handler)(message);
        ++_delivered;
    } catch (const std::exception& e) {
        ++_failures;
        spdlog::error("[{}] handler '{}' threw: {}", _node_name, message.handler, e.what());
    } catch (...) {
        ++_failures;
        spdlog::error("[{}] handler '{}' threw", _node_name, message.handler);
    }
}

void message_dispatcher::run_task(const std::function<void()>& task) {
    try {
        task();
    } catch (...) {
        ++_failures;
    }
}

void message_dispatcher::run() {
    std::deque<inbound_message> batch;
    std::deque<std::function<void()>> tasks;
    for (;;) {
        {
            std::unique_lock lock(_mutex);
            _wake.wait(lock, [this] { return _stopping || !_queue.empty() || !_tasks.empty(); });
            if (_stopping) return;
            batch.swap(_queue);
            tasks.swap(_tasks);
        }
        for (auto& message : batch) invoke(message);
        batch.clear();
        for (auto& task : tasks) run_task(task);
        tasks.clear();
    }
}

}  // namespace zpartisan::runtime
