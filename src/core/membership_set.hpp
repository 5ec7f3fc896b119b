// Cluster membership as a delta-state add-wins observed-remove set of node specs
// (delta-CRDT paper, AWORSet). Mutators return deltas; join is the only merge and is
// commutative, associative and idempotent. A removed spec leaves nothing behind but its dot
// in the causal context, which compacts to intervals: no tombstone growth.
// Pure: no I/O, no clock, no threads.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/dot_context.hpp"
#include "core/shared_spec.hpp"
#include "zpartisan/node_spec.hpp"

namespace zpartisan::core {

// A full state or a delta: the same shape (a delta is a small state).
struct membership_state {
    std::map<dot, shared_spec> entries;  // invariant: every key is also in context
    dot_context context;

    [[nodiscard]] bool empty() const { return entries.empty() && context.empty(); }
    bool operator==(const membership_state&) const = default;
};

// The specs of a state, one per name (the highest incarnation wins among concurrent adds),
// sorted by name. This is what decode(state) returns.
[[nodiscard]] std::vector<node_spec> specs_of(const membership_state& state);

// What a replica has seen (context) and what it holds live. Contexts alone cannot show a
// removal (it adds no dot), so the live dots travel too; they compact like a context.
struct membership_digest {
    dot_context context;
    dot_context live;

    bool operator==(const membership_digest&) const = default;
};

[[nodiscard]] membership_digest digest_of(const membership_state& state);
// A 64-bit FNV-1a hash of a digest's canonical form (actors in order, each with its sorted,
// disjoint ranges; actors with no ranges skipped). Equal digests hash equal on every node and
// build; unequal ones collide with a chance of about 2^-64, and then the next change or a
// publisher's gap still brings a full exchange.
[[nodiscard]] std::uint64_t fingerprint_of(const membership_digest& digest);
// fingerprint_of(digest_of(state)), without building the digest.
[[nodiscard]] std::uint64_t fingerprint_of(const membership_state& state);

// The CRDT join: into becomes into ⊔ delta. Returns whether into changed.
bool join_states(membership_state& into, const membership_state& delta);

class membership_set {
public:
    explicit membership_set(std::string actor) : _actor(std::move(actor)) {}

    // Adds spec, replacing every spec of the same name this replica has observed.
    membership_state add(const node_spec& spec);
    // Removes every observed spec of name; an empty delta when there is none.
    membership_state remove(const std::string& name);
    // Merges a delta or a full state. Returns whether anything (entries or context) changed.
    // With `effect`, also yields the smallest delta that has the same effect on a replica
    // that held our previous state: what to pass on, instead of a whole received state.
    bool join(const membership_state& delta, membership_state* effect = nullptr);

    // What this replica has seen and holds; a peer answers it with delta_since. Built when
    // asked, not kept: a converged cluster gossips only the fingerprint, and a kept digest
    // was a second copy of the context in every replica.
    [[nodiscard]] membership_digest digest() const;
    [[nodiscard]] std::uint64_t fingerprint() const;
    // The smallest delta that brings a replica whose digest is remote up to this one
    // (empty when it has nothing the remote lacks, additions and removals alike).
    [[nodiscard]] membership_state delta_since(const membership_digest& remote) const;
    // True when the remote has seen an addition or a removal this replica has not.
    [[nodiscard]] bool lacks_something_of(const membership_digest& remote) const;

    [[nodiscard]] std::vector<std::string> members() const;
    [[nodiscard]] std::vector<node_spec> specs() const { return specs_of(_state); }
    [[nodiscard]] std::optional<node_spec> find(const std::string& name) const;
    // The spec find() would copy, or nullptr; valid until the next mutation. For the paths
    // that run once per member (route statuses, reachability), where a copy per call was
    // most of their cost.
    [[nodiscard]] const node_spec* spec_of(std::string_view name) const;
    [[nodiscard]] bool contains(std::string_view name) const { return _dots_by_name.contains(name); }
    // Calls visit(spec) for each member's winning spec, in name order, without copying.
    template <class Visit>
    void for_each_spec(Visit&& visit) const {
        for (const auto& [name, dots] : _dots_by_name) visit(*best_of(dots));
    }
    [[nodiscard]] const membership_state& state() const { return _state; }
    [[nodiscard]] const std::string& actor() const { return _actor; }

private:
    [[nodiscard]] const shared_spec& best_of(const std::vector<dot>& dots) const;

    std::string _actor;  // "name/incarnation": unique per process lifetime, so dots never collide
    membership_state _state;
    // Index: name -> the dots of its live specs. Invariant: exactly the entries of _state,
    // no empty vectors. Makes find/add/remove/members independent of the cluster's size.
    std::map<std::string, std::vector<dot>, std::less<>> _dots_by_name;
    mutable std::optional<std::uint64_t> _fingerprint;  // fingerprint_of(_state); reset by join
};

}  // namespace zpartisan::core
