// Causal context of the delta-state CRDT (Almeida, Shoker, Baquero): the set of dots an
// replica has seen. Stored per actor as disjoint, sorted, closed intervals, so a context
// that saw every event compacts to one interval per actor and removals leave no tombstones.
// Pure: no I/O, no clock.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace zpartisan::core {

// One event: the counter-th mutation made by actor. Actors are "name/incarnation".
struct dot {
    std::string actor;
    std::uint64_t counter = 0;

    auto operator<=>(const dot&) const = default;
};

// Disjoint, non-adjacent, sorted closed intervals [first, second] of counters >= 1.
class interval_set {
public:
    using interval = std::pair<std::uint64_t, std::uint64_t>;

    [[nodiscard]] bool contains(std::uint64_t value) const;
    [[nodiscard]] bool includes(const interval_set& other) const;
    void insert(std::uint64_t value) { insert(interval{value, value}); }
    void insert(interval range);
    void merge(const interval_set& other);
    // The values of this set that other lacks.
    [[nodiscard]] interval_set minus(const interval_set& other) const;
    // How many values both sets hold; O(ranges), whatever the ranges' lengths.
    [[nodiscard]] std::uint64_t overlap_count(const interval_set& other) const;
    void erase(std::uint64_t value);
    void erase_first_range() { _ranges.erase(_ranges.begin()); }  // not empty
    [[nodiscard]] std::uint64_t max() const { return _ranges.empty() ? 0 : _ranges.back().second; }
    [[nodiscard]] bool empty() const { return _ranges.empty(); }
    [[nodiscard]] std::uint64_t size() const;
    [[nodiscard]] const std::vector<interval>& ranges() const { return _ranges; }

    bool operator==(const interval_set&) const = default;

private:
    std::vector<interval> _ranges;  // invariant: sorted, disjoint, never adjacent
};

class dot_context {
public:
    [[nodiscard]] bool contains(const dot& d) const;
    // True when every dot of other is also in this context.
    [[nodiscard]] bool includes(const dot_context& other) const;
    void insert(const dot& d);
    void merge(const dot_context& other);
    // The dots of this context that other lacks.
    [[nodiscard]] dot_context minus(const dot_context& other) const;
    void erase(const dot& d);
    // Next dot of actor: one past the highest counter seen for it.
    [[nodiscard]] dot next_dot(const std::string& actor) const;
    [[nodiscard]] bool empty() const { return _actors.empty(); }
    [[nodiscard]] std::size_t interval_count() const;
    [[nodiscard]] std::uint64_t dot_count() const;

    [[nodiscard]] const std::map<std::string, interval_set>& actors() const { return _actors; }
    std::map<std::string, interval_set>& actors() { return _actors; }

    bool operator==(const dot_context&) const = default;

private:
    std::map<std::string, interval_set> _actors;  // invariant: no empty interval_set
};

}  // namespace zpartisan::core
