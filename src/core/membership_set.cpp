#include "core/membership_set.hpp"

#include <algorithm>
#include <tuple>

namespace zpartisan::core {

std::vector<node_spec> specs_of(const membership_state& state) {
    std::map<std::string_view, const node_spec*> best;
    for (const auto& [d, shared] : state.entries) {
        const node_spec& spec = *shared;
        auto [it, inserted] = best.try_emplace(spec.name, &spec);
        if (!inserted && std::tie(it->second->incarnation, *it->second) < std::tie(spec.incarnation, spec))
            it->second = &spec;
    }
    std::vector<node_spec> result;
    result.reserve(best.size());
    for (const auto& [name, spec] : best) result.push_back(*spec);
    return result;
}

namespace {

// The CRDT join, reporting each entry it inserts or erases so callers can keep indexes.
// Only the delta's actors are visited for removals: a small delta costs little however
// large the state is.
template <class OnInsert, class OnErase>
bool join_into(membership_state& into, const membership_state& delta, OnInsert on_insert, OnErase on_erase) {
    bool changed = !into.context.includes(delta.context);
    // Our entries the delta has seen but no longer holds were removed there.
    for (const auto& [actor, intervals] : delta.context.actors()) {
        auto it = into.entries.lower_bound(dot{actor, 0});
        while (it != into.entries.end() && it->first.actor == actor) {
            if (intervals.contains(it->first.counter) && !delta.entries.contains(it->first)) {
                on_erase(it->first, it->second);
                it = into.entries.erase(it);
                changed = true;
            } else {
                ++it;
            }
        }
    }
    // Its entries we have never seen are new; ones we saw and dropped stay removed.
    for (const auto& [d, spec] : delta.entries) {
        if (!into.context.contains(d)) {
            auto [it, inserted] = into.entries.emplace(d, spec);
            if (inserted) on_insert(it->first, it->second);
            changed = changed || inserted;
        }
    }
    into.context.merge(delta.context);
    return changed;
}

}  // namespace

bool join_states(membership_state& into, const membership_state& delta) {
    return join_into(
        into, delta, [](const dot&, const shared_spec&) {}, [](const dot&, const shared_spec&) {});
}

bool membership_set::join(const membership_state& delta, membership_state* effect) {
    if (effect) {
        *effect = membership_state{};
        effect->context = delta.context.minus(_state.context);
    }
    _fingerprint.reset();
    return join_into(
        _state, delta,
        [this, effect](const dot& d, const shared_spec& spec) {
            _dots_by_name[spec->name].push_back(d);
            if (effect) effect->entries.emplace(d, spec);
        },
        [this, effect](const dot& d, const shared_spec& spec) {
            if (effect) effect->context.insert(d);
            auto it = _dots_by_name.find(spec->name);
            if (it == _dots_by_name.end()) return;
            std::erase(it->second, d);
            if (it->second.empty()) _dots_by_name.erase(it);
        });
}

membership_state membership_set::add(const node_spec& spec) {
    membership_state delta;
    const dot fresh = _state.context.next_dot(_actor);
    if (auto it = _dots_by_name.find(spec.name); it != _dots_by_name.end())
        for (const auto& d : it->second) delta.context.insert(d);
    delta.entries.emplace(fresh, spec);
    delta.context.insert(fresh);
    join(delta);
    return delta;
}

membership_state membership_set::remove(const std::string& name) {
    membership_state delta;
    if (auto it = _dots_by_name.find(name); it != _dots_by_name.end())
        for (const auto& d : it->second) delta.context.insert(d);
    join(delta);
    return delta;
}

membership_digest digest_of(const membership_state& state) {
    membership_digest out;
    out.context = state.context;
    for (const auto& [d, spec] : state.entries) out.live.insert(d);
    return out;
}

membership_digest membership_set::digest() const { return digest_of(_state); }

std::uint64_t membership_set::fingerprint() const {
    if (!_fingerprint) _fingerprint = fingerprint_of(_state);
    return *_fingerprint;
}

namespace {

// FNV-1a over a digest's canonical form (membership_set.hpp, fingerprint_of).
class digest_hasher {
public:
    void mix_actor(const std::string& actor, const std::vector<interval_set::interval>& ranges) {
        if (ranges.empty()) return;
        mix_number(actor.size());  // length first: "ab"+"c" and "a"+"bc" differ
        for (const char c : actor) mix_byte(static_cast<unsigned char>(c));
        mix_number(ranges.size());
        for (const auto& [low, high] : ranges) {
            mix_number(low);
            mix_number(high);
        }
    }
    void mix_context(const dot_context& context) {
        for (const auto& [actor, intervals] : context.actors()) mix_actor(actor, intervals.ranges());
        end_context();
    }
    void end_context() { mix_byte(0xff); }  // where the seen context ends and the live one begins
    [[nodiscard]] std::uint64_t value() const { return _hash; }

private:
    void mix_byte(unsigned char byte) { _hash = (_hash ^ byte) * 1099511628211ull; }
    void mix_number(std::uint64_t value) {
        for (int shift = 0; shift < 64; shift += 8) mix_byte(static_cast<unsigned char>(value >> shift));
    }

    std::uint64_t _hash = 14695981039346656037ull;
};

}  // namespace

std::uint64_t fingerprint_of(const membership_digest& digest) {
    digest_hasher hasher;
    hasher.mix_context(digest.context);
    hasher.mix_context(digest.live);
    return hasher.value();
}

std::uint64_t fingerprint_of(const membership_state& state) {
    digest_hasher hasher;
    hasher.mix_context(state.context);
    // The live dots, compacted per actor as digest_of would, without building the digest:
    // entries are in dot order, so each actor's counters come together and ascending.
    std::vector<interval_set::interval> ranges;
    const std::string* actor = nullptr;
    for (const auto& [d, spec] : state.entries) {
        if (!actor || *actor != d.actor) {
            if (actor) hasher.mix_actor(*actor, ranges);
            actor = &d.actor;
            ranges.clear();
        }
        if (!ranges.empty() && ranges.back().second + 1 == d.counter)
            ranges.back().second = d.counter;
        else
            ranges.emplace_back(d.counter, d.counter);
    }
    if (actor) hasher.mix_actor(*actor, ranges);
    hasher.end_context();
    return hasher.value();
}

membership_state membership_set::delta_since(const membership_digest& remote) const {
    membership_state delta;
    // The remote lacks one of our removals when it holds live a dot we saw but no longer
    // hold: count the remote's live dots we saw, and those we still hold.
    std::uint64_t remote_live_seen_here = 0;
    for (const auto& [actor, intervals] : remote.live.actors())
        if (auto mine = _state.context.actors().find(actor); mine != _state.context.actors().end())
            remote_live_seen_here += mine->second.overlap_count(intervals);
    std::uint64_t remote_live_held_here = 0;
    for (const auto& [d, spec] : _state.entries) remote_live_held_here += remote.live.contains(d) ? 1 : 0;
    const bool remote_lacks_removal = remote_live_seen_here > remote_live_held_here;
    if (!remote_lacks_removal && remote.context.includes(_state.context)) return delta;
    delta.context = _state.context;
    for (const auto& [d, spec] : _state.entries) {
        if (remote.context.contains(d)) {
            // The remote holds or removed it already. Leaving it out of the context keeps the
            // remote's live copy alive through the join (see docs/protocol.md, anti-entropy).
            delta.context.erase(d);
        } else {
            delta.entries.emplace(d, spec);
        }
    }
    return delta;
}

bool membership_set::lacks_something_of(const membership_digest& remote) const {
    if (!_state.context.includes(remote.context)) return true;
    // A dot we hold live that the remote saw but no longer holds: it removed it.
    for (const auto& [d, spec] : _state.entries)
        if (remote.context.contains(d) && !remote.live.contains(d)) return true;
    return false;
}

std::vector<std::string> membership_set::members() const {
    std::vector<std::string> names;
    names.reserve(_dots_by_name.size());
    for (const auto& [name, dots] : _dots_by_name) names.push_back(name);
    return names;
}

const shared_spec& membership_set::best_of(const std::vector<dot>& dots) const {
    const shared_spec* best = nullptr;
    for (const auto& d : dots) {
        const auto& spec = _state.entries.at(d);
        if (!best || std::tie((*best)->incarnation, **best) < std::tie(spec->incarnation, *spec)) best = &spec;
    }
    return *best;  // the index holds no empty vectors
}

const node_spec* membership_set::spec_of(std::string_view name) const {
    auto it = _dots_by_name.find(name);
    return it == _dots_by_name.end() ? nullptr : &*best_of(it->second);
}

std::optional<node_spec> membership_set::find(const std::string& name) const {
    if (const auto* spec = spec_of(name)) return *spec;
    return std::nullopt;
}

}  // namespace zpartisan::core
