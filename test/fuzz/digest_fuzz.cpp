// Causal contexts and digests (src/core/dot_context.hpp, core/membership_set.hpp) as a peer
// sends them: the input is a digest message's body. What decodes keeps the interval invariant
// (sorted, apart, counters from 1), and the context algebra holds on it: merge is commutative
// and includes both sides, minus leaves nothing of the other side, sizes add up, inserts and
// erases do what they say. A replica answers it (delta_since) with only dots the remote lacks.
#include <limits>
#include <string>

#include "core/dot_context.hpp"
#include "fuzz_targets.hpp"
#include "sample_state.hpp"
#include "wire/codec.hpp"

namespace zpartisan::fuzz {

namespace {

using core::dot_context;
using core::interval_set;

void check_invariant(const dot_context& context) {
    for (const auto& [actor, set] : context.actors()) {
        fuzz_require(!set.empty(), "no actor with an empty interval set");
        std::uint64_t previous_last = 0;
        bool first_range = true;
        for (const auto& [first, last] : set.ranges()) {
            fuzz_require(first >= 1 && first <= last, "intervals are [first, last] with first >= 1");
            fuzz_require(first_range || first > previous_last + 1, "intervals are sorted and apart");
            previous_last = last;
            first_range = false;
        }
    }
}

void check_algebra(const dot_context& a, const dot_context& b) {
    auto ab = a;
    ab.merge(b);
    auto ba = b;
    ba.merge(a);
    check_invariant(ab);
    fuzz_require(ab == ba, "merge is commutative");
    fuzz_require(ab.includes(a) && ab.includes(b), "a merge includes both sides");
    const auto rest = a.minus(b);
    check_invariant(rest);
    fuzz_require(a.includes(rest), "a minus b is part of a");
    fuzz_require(a.includes(b) == b.minus(a).empty(), "a includes b exactly when b minus a is empty");
    for (const auto& [actor, set] : a.actors()) {
        const auto theirs = b.actors().find(actor);
        if (theirs == b.actors().end()) continue;
        const auto left = rest.actors().find(actor);
        const std::uint64_t left_size = left == rest.actors().end() ? 0 : left->second.size();
        fuzz_require(left == rest.actors().end() || left->second.overlap_count(theirs->second) == 0,
                     "a minus b shares nothing with b");
        // Modulo 2^64, as the sizes of forged ranges may wrap.
        fuzz_require(set.overlap_count(theirs->second) + left_size == set.size(), "overlap and rest add up to the set");
    }
    auto back = rest;
    back.merge(b);
    fuzz_require(back.includes(a), "(a minus b) merged with b includes a");
}

// Inserting and erasing at the edges of each range, where off-by-ones live.
void check_edits(const dot_context& context) {
    constexpr auto top = std::numeric_limits<std::uint64_t>::max();
    std::size_t edits = 0;
    for (const auto& [actor, set] : context.actors()) {
        for (const auto& [first, last] : set.ranges()) {
            for (const auto counter : {first - 1, first, last, last == top ? last : last + 1}) {
                if (counter == 0 || ++edits > 64) continue;
                const core::dot d{actor, counter};
                auto edited = context;
                edited.erase(d);
                check_invariant(edited);
                fuzz_require(!edited.contains(d), "an erased dot is gone");
                fuzz_require(edited.dot_count() + (context.contains(d) ? 1 : 0) == context.dot_count(),
                             "an erase takes one dot");
                edited.insert(d);
                check_invariant(edited);
                fuzz_require(edited.contains(d) && edited.includes(context), "an inserted dot is there, the rest kept");
                const auto next = context.next_dot(actor);
                fuzz_require(next.counter == set.max() + 1, "next_dot is one past the highest counter");
            }
        }
    }
}

void check_answer(const core::membership_digest& remote) {
    const auto& replica = sample_membership();
    const auto delta = replica.delta_since(remote);
    for (const auto& [d, spec] : delta.entries) {
        fuzz_require(!remote.context.contains(d), "the answer sends only entries the remote has not seen");
        fuzz_require(replica.state().entries.contains(d), "the answer sends only entries the replica holds");
    }
    fuzz_require(replica.state().context.includes(delta.context), "the answer's context is the replica's");
    (void)replica.lacks_something_of(remote);
    (void)core::fingerprint_of(remote);
}

}  // namespace

int fuzz_digest(const std::uint8_t* data, std::size_t size) {
    std::string frame("ZP\x01", 3);
    frame.push_back(static_cast<char>(core::message_type::digest));
    frame.append(as_text(data, size));
    const auto decoded = wire::decode(frame, frame.size());
    if (!decoded.message) return 0;
    const auto& digest = std::get<core::digest>(*decoded.message);
    check_invariant(digest.seen.context);
    check_invariant(digest.seen.live);
    check_algebra(digest.seen.context, digest.seen.live);
    check_algebra(digest.seen.live, digest.seen.context);
    check_algebra(digest.seen.context, sample_membership().state().context);
    check_edits(digest.seen.context);
    check_answer(digest.seen);
    return 0;
}

}  // namespace zpartisan::fuzz
