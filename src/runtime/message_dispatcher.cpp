#include "runtime/message_dispatcher.hpp"

#include "core/log_text.hpp"
#include "wire/routed_codec.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

namespace zpartisan::runtime {

message_dispatcher::message_dispatcher(std::string node_name, bool inline_delivery)
    : _node_name(std::move(node_name)), _inline(inline_delivery) {}

void message_dispatcher::set_handler(const std::string& name, message_handler fn) {
    std::lock_guard lock(_mutex);
    _handlers[name] = std::make_shared<message_handler>(std::move(fn));
    ++_handlers_version;
}

bool message_dispatcher::remove_handler(const std::string& name) {
    std::lock_guard lock(_mutex);
    ++_handlers_version;
    return _handlers.erase(name) > 0;
}

void message_dispatcher::post(inbound_message message, std::size_t bundled_entries, bool acked) {
    queued item{std::move(message), bundled_entries};
    if (_inline) {
        // Taken out for the call: a handler may post again from inside itself (an inline
        // handler that calls into its node), and the cache is what keeps it alive while it
        // runs, even if it removed or replaced itself.
        auto cache = std::exchange(_inline_cache, {});
        invoke(item, cache);
        _inline_cache = std::move(cache);
        return;
    }
    const auto count = std::max<std::size_t>(bundled_entries, 1);
    std::lock_guard lock(_mutex);
    if (!acked && _queued_messages + count > queue_max) {
        _overflow += count;
        return;
    }
    _queued_messages += count;
    _queue.push_back(std::move(item));
}

bool message_dispatcher::backlogged() {
    if (_inline) return false;  // handlers run as messages arrive: nothing queues
    std::lock_guard lock(_mutex);
    return _queued_messages >= backlog_mark;
}

bool message_dispatcher::has_work() {
    std::lock_guard lock(_mutex);
    return !_queue.empty();
}

const message_handler* message_dispatcher::handler_for(const std::string& name, handler_cache& cache) {
    // Looked up again when the name changes or any handler was registered or removed since
    // (one atomic load otherwise): a replaced handler is not called for what follows.
    const auto version = _handlers_version.load(std::memory_order_acquire);
    if (!cache.handler || cache.name != name || cache.version != version) {
        std::lock_guard lock(_mutex);
        auto it = _handlers.find(name);
        cache.handler = it != _handlers.end() ? it->second : nullptr;
        cache.name = name;
        cache.version = version;
    }
    return cache.handler.get();
}

void message_dispatcher::invoke(queued& item, handler_cache& cache) {
    auto& message = item.message;
    if (item.bundled_entries == 0) {
        if (const auto* handler = handler_for(message.handler, cache))
            call_handler(*handler, message);
        else
            ++_unknown;
        return;
    }
    // One message reused for every entry: its payload's buffer is allocated once.
    const std::string bundle = std::move(message.payload);
    wire::bundle_reader entries(bundle);
    std::string_view entry;
    while (entries.next(entry)) {
        message.payload.assign(entry);
        if (const auto* handler = handler_for(message.handler, cache))
            call_handler(*handler, message);
        else
            ++_unknown;
    }
}

void message_dispatcher::call_handler(const message_handler& handler, const inbound_message& message) {
    try {
        handler(message);
        ++_delivered;
    } catch (const std::exception& e) {
        ++_failures;
        spdlog::error("[{}] handler '{}' threw: {}", _node_name, core::log_text(message.handler),
                      core::log_text(e.what(), 256));
    } catch (...) {
        ++_failures;
        spdlog::error("[{}] handler '{}' threw", _node_name, core::log_text(message.handler));
    }
}

bool message_dispatcher::run_queued(const std::atomic<bool>& stop) {
    {
        std::lock_guard lock(_mutex);
        if (_queue.empty()) return false;
        _batch.swap(_queue);
        _queued_messages = 0;
    }
    // Looked up again per batch: a handler removed meanwhile is not called afterwards.
    handler_cache cache;
    for (auto& item : _batch) {
        if (stop.load(std::memory_order_relaxed)) break;
        invoke(item, cache);
    }
    _batch.clear();
    return true;
}

}  // namespace zpartisan::runtime
