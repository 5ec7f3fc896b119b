// Holds message handlers and the deliveries waiting for them; runs them in arrival order,
// one caller at a time, off the reactor's turn, so a slow or throwing handler never stalls
// the reactor. Handlers are looked up at delivery time; an unknown one is a counted drop.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "zpartisan/messaging.hpp"

namespace zpartisan::runtime {

class message_dispatcher {
public:
    // A handler slower than its traffic must not grow memory without bound: beyond this many
    // waiting messages new ones are dropped and counted. Acked ones, already acknowledged, are
    // never dropped: past backlog_mark the core leaves new ones unacknowledged, to their
    // senders' retransmission, so only what one poll brings can pass queue_max.
    static constexpr std::size_t queue_max = 200'000;
    // Past this many queued messages acked ones are left to their senders' retransmission
    // (peer_service::set_deliveries_backlogged): room is kept for what one poll brings.
    static constexpr std::size_t backlog_mark = queue_max - 50'000;
    [[nodiscard]] bool backlogged();

    // inline_delivery: handlers run on the posting thread (the reactor). Otherwise
    // they queue until a thread calls run_queued (the reactor's workers, one at a time).
    message_dispatcher(std::string node_name, bool inline_delivery);
    message_dispatcher(const message_dispatcher&) = delete;
    message_dispatcher& operator=(const message_dispatcher&) = delete;

    void set_handler(const std::string& name, message_handler fn);
    bool remove_handler(const std::string& name);
    // bundled_entries > 0: message.payload is a bundle of that many payloads (one handler,
    // one sender), each handed to the handler as a message of its own.
    // acked: acknowledged already, so kept even past queue_max.
    void post(inbound_message message, std::size_t bundled_entries = 0, bool acked = false);
    [[nodiscard]] bool has_work();
    // Runs what is queued now, in order; false when nothing was. One caller at a time. Once
    // stop is set, what has not run yet is dropped (a stopped node handles nothing more).
    bool run_queued(const std::atomic<bool>& stop);

    [[nodiscard]] std::uint64_t delivered() const { return _delivered.load(); }
    [[nodiscard]] std::uint64_t handler_failures() const { return _failures.load(); }
    [[nodiscard]] std::uint64_t unknown_handler_drops() const { return _unknown.load(); }
    [[nodiscard]] std::uint64_t overflow_drops() const { return _overflow.load(); }

private:
    struct queued {
        inbound_message message;
        std::size_t bundled_entries = 0;
    };
    // The last handler looked up, so a run of messages for one handler takes the lock once.
    struct handler_cache {
        std::string name;
        std::shared_ptr<message_handler> handler;
        std::uint64_t version = 0;  // _handlers_version when looked up
    };
    // The handler for name, from the cache unless the name or the handler set changed.
    const message_handler* handler_for(const std::string& name, handler_cache& cache);
    void invoke(queued& item, handler_cache& cache);
    void call_handler(const message_handler& handler, const inbound_message& message);

    std::string _node_name;
    std::mutex _mutex;
    std::deque<queued> _queue;
    std::size_t _queued_messages = 0;  // in _queue, counting each bundle's entries
    std::map<std::string, std::shared_ptr<message_handler>> _handlers;
    std::atomic<std::uint64_t> _handlers_version{1};  // bumped by every set_handler and remove_handler
    std::atomic<std::uint64_t> _delivered{0};
    std::atomic<std::uint64_t> _failures{0};
    std::atomic<std::uint64_t> _unknown{0};
    std::atomic<std::uint64_t> _overflow{0};
    bool _inline = false;
    std::deque<queued> _batch;  // run_queued's, kept so their buffers are reused
    // Inline delivery's: posts come from whoever holds the reactor's turn, one at a time or
    // nested (post moves it out while a handler runs).
    handler_cache _inline_cache;
};

}  // namespace zpartisan::runtime
