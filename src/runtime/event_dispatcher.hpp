// Runs on_up / on_down callbacks on a thread of their own, so a slow or throwing callback
// can neither stall the reactor (heartbeats!) nor kill the node. Events are delivered in
// the order the reactor saw them; the queue is bounded (oldest dropped, counted).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace zpartisan::runtime {

class event_dispatcher {
public:
    using callback = std::function<void(const std::string&)>;
    static constexpr std::size_t queue_max = 100'000;

    explicit event_dispatcher(std::string node_name);
    ~event_dispatcher();
    event_dispatcher(const event_dispatcher&) = delete;
    event_dispatcher& operator=(const event_dispatcher&) = delete;

    // key is a node name or "*". Returns a handle for unsubscribe.
    std::uint64_t subscribe(bool on_up, std::string key, callback fn);
    bool unsubscribe(std::uint64_t handle);
    void post(std::string node, bool up);
    // A closure run on this thread in order with the events: delivery reports. Never
    // dropped: those still queued when the dispatcher is destroyed run before its thread
    // ends.
    void post_task(std::function<void()> task);
    // Returns once every task posted before the call ran; at once on this thread itself.
    void drain_tasks();

    [[nodiscard]] bool on_dispatcher_thread() const { return std::this_thread::get_id() == _thread.get_id(); }
    [[nodiscard]] std::uint64_t callback_failures() const { return _failures.load(); }
    [[nodiscard]] std::uint64_t events_dropped() const { return _dropped.load(); }

private:
    struct subscription {
        bool on_up = true;
        std::string key;
        callback fn;
    };
    struct event {
        std::string node;
        bool up = true;
        std::function<void()> task;  // set: a task, not an event
    };
    void run_task(const std::function<void()>& task);

    void run();

    std::string _node_name;
    std::mutex _mutex;
    std::condition_variable _wake;
    std::deque<event> _queue;
    std::map<std::uint64_t, subscription> _subscriptions;
    std::uint64_t _next_handle = 1;
    bool _stopping = false;
    std::atomic<std::uint64_t> _failures{0};
    std::atomic<std::uint64_t> _dropped{0};
    std::thread _thread;  // last: starts once everything above exists
};

}  // namespace zpartisan::runtime
