// A node spec as the membership state holds it: immutable and reference-counted, so every
// replica, delta, digest answer and message that carries the same spec shares one copy
// instead of holding its own strings. Compares by value: two handles to equal specs are
// equal whether or not they share. Pure data: no I/O.
#pragma once

#include <compare>
#include <memory>

#include "zpartisan/node_spec.hpp"

namespace zpartisan::core {

class shared_spec {
public:
    shared_spec() : _spec(empty()) {}
    // Implicit: a spec where a shared one is expected is made shared once, here.
    shared_spec(node_spec spec) : _spec(std::make_shared<const node_spec>(std::move(spec))) {}  // NOLINT

    [[nodiscard]] const node_spec& operator*() const { return *_spec; }
    [[nodiscard]] const node_spec* operator->() const { return _spec.get(); }
    // Whether both handles hold the very same copy (not only equal specs).
    [[nodiscard]] bool shares_with(const shared_spec& other) const { return _spec == other._spec; }
    // How many handles hold this copy (for tests and memory reports).
    [[nodiscard]] long holders() const { return _spec.use_count(); }

    bool operator==(const shared_spec& other) const { return _spec == other._spec || *_spec == *other._spec; }
    auto operator<=>(const shared_spec& other) const { return *_spec <=> *other._spec; }

private:
    // Default handles share one empty spec rather than allocate each.
    static const std::shared_ptr<const node_spec>& empty() {
        static const auto none = std::make_shared<const node_spec>();
        return none;
    }

    std::shared_ptr<const node_spec> _spec;  // never null
};

}  // namespace zpartisan::core
