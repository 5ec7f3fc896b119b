// reactor: the callers that wait for the protocol, not for the reactor (docs/protocol.md §3
// sync_join, §7 partition requests): registered on the reactor thread, answered from the
// core's state or effects, or at shutdown.
#include <spdlog/spdlog.h>

#include "core/log_text.hpp"
#include "runtime/reactor.hpp"

namespace zpartisan::runtime {

std::future<op_result> reactor::join_and_wait(const std::string& endpoint, std::chrono::milliseconds timeout,
                                              const std::string& expected_name, const std::string& server_key) {
    return call([this, endpoint, timeout, expected_name, server_key](core::peer_service& core, std::uint64_t now) {
        core.join(endpoint, now, expected_name, server_key);
        join_waiter waiter{endpoint, now + static_cast<std::uint64_t>(timeout.count()), {}};
        auto future = waiter.done.get_future();
        if (stopped()) {
            waiter.done.set_value({op_status::stopped, "node stopped"});
        } else {
            _waiters.push_back(std::move(waiter));
        }
        return future;
    });
}

void reactor::inject_partition(const std::string& origin, std::uint32_t ttl,
                               std::function<void(partition_result)> done) {
    std::optional<partition_result> at_once = call([&](core::peer_service& core, std::uint64_t now) {
        std::optional<partition_result> result;
        if (stopped() || !core.running()) {
            result = partition_result{op_status::stopped, "", "the peer service stopped"};
        } else if (origin != core.self().name && !core.membership().contains(origin)) {
            result = partition_result{op_status::unknown_node, "", "no member named " + origin};
        } else if (auto ref = core.inject_partition(origin, ttl, now)) {
            _partition_waiters.emplace(*ref, std::move(done));  // the outcome follows as an effect
        } else {
            result = partition_result{op_status::refused, "", "no route to " + origin};
        }
        return result;
    });
    if (at_once) done(std::move(*at_once));
}

void reactor::check_waiters() {
    if (!_core->running()) {
        stop_waiters("the peer service stopped");
        return;
    }
    if (_waiters.empty()) return;
    const auto now = now_ms();
    for (auto it = _waiters.begin(); it != _waiters.end();) {
        std::optional<op_result> result;
        const auto outcome = _core->outcome_of_join(it->endpoint);
        if (outcome && outcome->status == core::join_status::refused) {
            result = op_result{op_status::refused, outcome->reason};
        } else if (outcome && outcome->status == core::join_status::joined && _core->settled()) {
            result = op_result{op_status::ok, outcome->reason};  // e.g. a join by spec reached another name
        } else if (now >= it->deadline_ms) {
            result = op_result{op_status::timeout, outcome && outcome->status == core::join_status::joined
                                                       ? "joined, but not yet connected to every peer"
                                                       : "no answer from " + it->endpoint};
        }
        if (result) {
            it->done.set_value(*result);
            it = _waiters.erase(it);
        } else {
            ++it;
        }
    }
}

void reactor::answer_partition(const core::effect::partition_outcome& outcome) {
    if (!outcome.applied)
        spdlog::warn("[{}] partition {} given up: {}", _config.name, core::log_text(outcome.ref),
                     core::log_text(outcome.reason, 256));
    auto waiter = _partition_waiters.find(outcome.ref);
    if (waiter == _partition_waiters.end()) return;
    auto done = std::move(waiter->second);
    _partition_waiters.erase(waiter);
    done(outcome.applied ? partition_result{op_status::ok, outcome.ref, ""}
                         : partition_result{op_status::timeout, "", outcome.reason});
}

void reactor::stop_waiters(const std::string& why) {
    auto joins = std::move(_waiters);
    _waiters.clear();
    for (auto& waiter : joins) waiter.done.set_value({op_status::stopped, why});
    auto partitions = std::move(_partition_waiters);
    _partition_waiters.clear();
    for (auto& [ref, waiter] : partitions) waiter({op_status::stopped, "", why});
}

}  // namespace zpartisan::runtime
