#include "core/dot_context.hpp"

#include <algorithm>

namespace zpartisan::core {

bool interval_set::contains(std::uint64_t value) const {
    auto it = std::upper_bound(_ranges.begin(), _ranges.end(), value,
                               [](std::uint64_t v, const interval& r) { return v < r.first; });
    if (it == _ranges.begin()) return false;
    --it;
    return value <= it->second;
}

bool interval_set::includes(const interval_set& other) const {
    auto mine = _ranges.begin();
    for (const auto& [first, last] : other._ranges) {
        while (mine != _ranges.end() && mine->second < first) ++mine;
        if (mine == _ranges.end() || mine->first > first || mine->second < last) return false;
    }
    return true;
}

void interval_set::insert(interval range) {
    if (range.first > range.second) return;
    // Find the first range that could touch [first, second] (adjacent counts as touching).
    // Written without "+ 1", which would wrap at the largest counter.
    auto it = std::lower_bound(_ranges.begin(), _ranges.end(), range, [](const interval& r, const interval& x) {
        return r.second < x.first && x.first - r.second > 1;
    });
    auto merged = range;
    auto end = it;
    while (end != _ranges.end() && (end->first <= merged.second || end->first - merged.second == 1)) {
        merged.first = std::min(merged.first, end->first);
        merged.second = std::max(merged.second, end->second);
        ++end;
    }
    it = _ranges.erase(it, end);
    _ranges.insert(it, merged);
}

void interval_set::merge(const interval_set& other) {
    // A few ranges (a delta's dot, the common case) go in place, each in O(log n) and a short
    // shift; many ranges go in one pass over both sorted lists, since inserting them one by one
    // would shift ours each time: quadratic for a peer's interleaved ranges.
    constexpr std::size_t inserted_one_by_one = 8;
    if (other._ranges.size() <= inserted_one_by_one) {
        for (const auto& r : other._ranges) insert(r);
        return;
    }
    if (_ranges.empty()) {
        _ranges = other._ranges;
        return;
    }
    std::vector<interval> merged;
    merged.reserve(_ranges.size() + other._ranges.size());
    auto mine = _ranges.begin();
    auto theirs = other._ranges.begin();
    while (mine != _ranges.end() || theirs != other._ranges.end()) {
        const bool take_mine = theirs == other._ranges.end() || (mine != _ranges.end() && mine->first <= theirs->first);
        const auto next = take_mine ? *mine++ : *theirs++;
        // Touching (overlapping or adjacent) the last merged range extends it; written without
        // "+ 1", which would wrap at the largest counter.
        if (!merged.empty() && (next.first <= merged.back().second || next.first - merged.back().second == 1))
            merged.back().second = std::max(merged.back().second, next.second);
        else
            merged.push_back(next);
    }
    _ranges = std::move(merged);
}

interval_set interval_set::minus(const interval_set& other) const {
    interval_set out;
    auto b = other._ranges.begin();
    for (auto [first, last] : _ranges) {
        while (b != other._ranges.end() && b->second < first) ++b;
        auto cut = b;
        while (first <= last) {
            if (cut == other._ranges.end() || cut->first > last) {
                out._ranges.emplace_back(first, last);
                break;
            }
            if (cut->first > first) out._ranges.emplace_back(first, cut->first - 1);
            if (cut->second >= last) break;
            first = cut->second + 1;
            ++cut;
        }
    }
    return out;
}

std::uint64_t interval_set::overlap_count(const interval_set& other) const {
    std::uint64_t count = 0;
    auto a = _ranges.begin();
    auto b = other._ranges.begin();
    while (a != _ranges.end() && b != other._ranges.end()) {
        const auto first = std::max(a->first, b->first);
        const auto last = std::min(a->second, b->second);
        if (first <= last) count += last - first + 1;
        if (a->second < b->second)
            ++a;
        else
            ++b;
    }
    return count;
}

void interval_set::erase(std::uint64_t value) {
    auto it = std::upper_bound(_ranges.begin(), _ranges.end(), value,
                               [](std::uint64_t v, const interval& r) { return v < r.first; });
    if (it == _ranges.begin()) return;
    --it;
    if (value > it->second) return;
    const auto [first, last] = *it;
    it = _ranges.erase(it);
    if (value < last) it = _ranges.insert(it, interval{value + 1, last});
    if (first < value) _ranges.insert(it, interval{first, value - 1});
}

bool dot_context::contains(const dot& d) const {
    auto it = _actors.find(d.actor);
    return it != _actors.end() && it->second.contains(d.counter);
}

bool dot_context::includes(const dot_context& other) const {
    for (const auto& [actor, set] : other._actors) {
        auto it = _actors.find(actor);
        if (it == _actors.end() || !it->second.includes(set)) return false;
    }
    return true;
}

void dot_context::insert(const dot& d) { _actors[d.actor].insert(d.counter); }

void dot_context::merge(const dot_context& other) {
    for (const auto& [actor, set] : other._actors) _actors[actor].merge(set);
}

dot_context dot_context::minus(const dot_context& other) const {
    dot_context out;
    for (const auto& [actor, set] : _actors) {
        auto theirs = other._actors.find(actor);
        auto rest = theirs == other._actors.end() ? set : set.minus(theirs->second);
        if (!rest.empty()) out._actors.emplace(actor, std::move(rest));
    }
    return out;
}

void dot_context::erase(const dot& d) {
    auto it = _actors.find(d.actor);
    if (it == _actors.end()) return;
    it->second.erase(d.counter);
    if (it->second.empty()) _actors.erase(it);
}

dot dot_context::next_dot(const std::string& actor) const {
    auto it = _actors.find(actor);
    return dot{actor, (it == _actors.end() ? 0 : it->second.max()) + 1};
}

std::uint64_t interval_set::size() const {
    std::uint64_t count = 0;
    for (const auto& [first, last] : _ranges) count += last - first + 1;
    return count;
}

std::uint64_t dot_context::dot_count() const {
    std::uint64_t count = 0;
    for (const auto& [actor, set] : _actors) count += set.size();
    return count;
}

std::size_t dot_context::interval_count() const {
    std::size_t count = 0;
    for (const auto& [actor, set] : _actors) count += set.ranges().size();
    return count;
}

}  // namespace zpartisan::core
