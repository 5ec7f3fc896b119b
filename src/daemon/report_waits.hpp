// Control answers that wait for an acked forward's delivery report (docs/control.md): each is
// given once, by the report (on the node's callback thread) or, if none came by its deadline,
// by expire() on the serving thread, which meanwhile answers other requests.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace zpartisan::daemon {

// Takes one request's answer (JSON text); may be called from any thread.
using answer_sink = std::function<void(const std::string& answer)>;

class report_waits {
public:
    using clock = std::chrono::steady_clock;

    // default_wait: how long a forward that names no timeout waits for its report.
    explicit report_waits(std::chrono::milliseconds default_wait) : _default_wait(default_wait) {}

    [[nodiscard]] std::chrono::milliseconds default_wait() const { return _default_wait; }
    // A wait that `answer` ends: with finish()'s text, or with timed_out_answer at deadline.
    std::uint64_t open(clock::time_point deadline, std::string timed_out_answer, answer_sink answer);
    // Answers wait `id` unless it was answered already (then false). Any thread.
    bool finish(std::uint64_t id, const std::string& answer);
    // Answers every wait whose deadline is past; returns the earliest deadline still open.
    std::optional<clock::time_point> expire(clock::time_point now);
    [[nodiscard]] std::size_t open_count() const;

private:
    struct wait {
        clock::time_point deadline;
        std::string timed_out_answer;
        answer_sink answer;
    };

    std::chrono::milliseconds _default_wait;
    mutable std::mutex _mutex;
    std::uint64_t _next_id = 1;
    std::map<std::uint64_t, wait> _waits;
};

}  // namespace zpartisan::daemon
