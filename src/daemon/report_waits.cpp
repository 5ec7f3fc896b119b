#include "daemon/report_waits.hpp"

#include <vector>

namespace zpartisan::daemon {

std::uint64_t report_waits::open(clock::time_point deadline, std::string timed_out_answer, answer_sink answer) {
    std::lock_guard lock(_mutex);
    const auto id = _next_id++;
    _waits.emplace(id, wait{deadline, std::move(timed_out_answer), std::move(answer)});
    return id;
}

bool report_waits::finish(std::uint64_t id, const std::string& answer) {
    answer_sink sink;
    {
        std::lock_guard lock(_mutex);
        const auto it = _waits.find(id);
        if (it == _waits.end()) return false;
        sink = std::move(it->second.answer);
        _waits.erase(it);
    }
    // Outside the lock: the sink may take locks of its own (the control endpoint's queue).
    sink(answer);
    return true;
}

std::optional<report_waits::clock::time_point> report_waits::expire(clock::time_point now) {
    std::vector<wait> due;
    std::optional<clock::time_point> earliest;
    {
        std::lock_guard lock(_mutex);
        for (auto it = _waits.begin(); it != _waits.end();) {
            if (it->second.deadline <= now) {
                due.push_back(std::move(it->second));
                it = _waits.erase(it);
            } else {
                if (!earliest || it->second.deadline < *earliest) earliest = it->second.deadline;
                ++it;
            }
        }
    }
    for (auto& w : due) w.answer(w.timed_out_answer);
    return earliest;
}

std::size_t report_waits::open_count() const {
    std::lock_guard lock(_mutex);
    return _waits.size();
}

}  // namespace zpartisan::daemon
