// The CRDT's laws, property-tested over seeded random histories (delta-CRDT paper, AWORSet):
// join is commutative, associative and idempotent; deltas add up to full states;
// delta_since(digest) brings a replica up to date; the set agrees with a naive oracle.
#include <catch2/catch.hpp>
#include <random>
#include <set>

#include "core/membership_set.hpp"

using namespace zpartisan;
using namespace zpartisan::core;

namespace {

node_spec spec_named(const std::string& name, std::uint64_t incarnation = 1) {
    return node_spec{name, role::client, "tcp://" + name + ":1", "", "", incarnation, "", ""};
}

const std::vector<std::string> names{"a", "b", "c", "d", "e", "f"};

// Random replicas with random local adds/removes and random pairwise joins.
struct history {
    std::vector<membership_set> replicas;
    std::vector<std::vector<membership_state>> deltas;  // each replica's own mutations

    history(std::uint64_t seed, int replica_count, int steps) {
        std::mt19937_64 rng(seed);
        for (int r = 0; r < replica_count; ++r) replicas.emplace_back("r" + std::to_string(r) + "/1");
        deltas.resize(static_cast<std::size_t>(replica_count));
        for (int step = 0; step < steps; ++step) {
            const auto r = rng() % replicas.size();
            switch (rng() % 4) {
                case 0:
                case 1:
                    deltas[r].push_back(replicas[r].add(spec_named(names[rng() % names.size()], 1 + rng() % 3)));
                    break;
                case 2:
                    deltas[r].push_back(replicas[r].remove(names[rng() % names.size()]));
                    break;
                case 3:
                    replicas[r].join(replicas[rng() % replicas.size()].state());
                    break;
            }
        }
    }
};

membership_state joined(membership_state a, const membership_state& b) {
    join_states(a, b);
    return a;
}

constexpr int cases = 300;

}  // namespace

TEST_CASE("join is commutative, associative and idempotent", "[membership][property]") {
    for (std::uint64_t seed = 1; seed <= cases; ++seed) {
        CAPTURE(seed);
        history h(seed, 3, 30);
        const auto& a = h.replicas[0].state();
        const auto& b = h.replicas[1].state();
        const auto& c = h.replicas[2].state();
        REQUIRE(joined(a, b) == joined(b, a));
        REQUIRE(joined(joined(a, b), c) == joined(a, joined(b, c)));
        REQUIRE(joined(a, a) == a);
        REQUIRE(joined(joined(a, b), b) == joined(a, b));
    }
}

TEST_CASE("applying a replica's deltas equals joining its full state", "[membership][property]") {
    for (std::uint64_t seed = 1; seed <= cases; ++seed) {
        CAPTURE(seed);
        std::mt19937_64 rng(seed);
        membership_set origin("o/1");
        std::vector<membership_state> deltas;
        for (int step = 0; step < 25; ++step) {
            if (rng() % 3 == 0)
                deltas.push_back(origin.remove(names[rng() % names.size()]));
            else
                deltas.push_back(origin.add(spec_named(names[rng() % names.size()], rng() % 5)));
        }
        membership_set by_deltas("x/1"), by_state("y/1");
        for (const auto& d : deltas) by_deltas.join(d);
        by_state.join(origin.state());
        REQUIRE(by_deltas.state() == by_state.state());
        REQUIRE(by_deltas.state() == origin.state());
        REQUIRE(by_deltas.members() == origin.members());
    }
}

TEST_CASE("delta_since(digest(b)) brings b up to a, removals included", "[membership][property]") {
    for (std::uint64_t seed = 1; seed <= cases; ++seed) {
        CAPTURE(seed);
        history h(seed, 2, 40);
        auto& a = h.replicas[0];
        auto b = h.replicas[1];
        const auto expected = joined(b.state(), a.state());
        b.join(a.delta_since(b.digest()));
        REQUIRE(b.state() == expected);
        // Once caught up, there is nothing left to send, and nothing left to ask for.
        REQUIRE(a.delta_since(b.digest()).empty());
        REQUIRE_FALSE(b.lacks_something_of(a.digest()));
    }
}

TEST_CASE("a removal is visible to the digest exchange although it adds no dot", "[membership]") {
    membership_set a("a/1"), b("b/1");
    a.add(spec_named("x"));
    b.join(a.state());
    a.remove("x");
    CHECK(a.digest().context == b.digest().context);  // the contexts alone cannot tell
    CHECK(b.lacks_something_of(a.digest()));
    b.join(a.delta_since(b.digest()));
    CHECK(b.members().empty());
}

TEST_CASE("the set agrees with a naive oracle on sequential histories", "[membership][property]") {
    for (std::uint64_t seed = 1; seed <= cases; ++seed) {
        CAPTURE(seed);
        std::mt19937_64 rng(seed);
        membership_set set("r/1");
        std::set<std::string> oracle;
        for (int step = 0; step < 40; ++step) {
            const auto& name = names[rng() % names.size()];
            if (rng() % 3 == 0) {
                set.remove(name);
                oracle.erase(name);
            } else {
                set.add(spec_named(name, rng() % 4));
                oracle.insert(name);
            }
            REQUIRE(set.members() == std::vector<std::string>(oracle.begin(), oracle.end()));
        }
    }
}

TEST_CASE("after full exchange every replica agrees", "[membership][property]") {
    for (std::uint64_t seed = 1; seed <= cases; ++seed) {
        CAPTURE(seed);
        history h(seed, 4, 40);
        membership_state all;
        for (const auto& r : h.replicas) join_states(all, r.state());
        for (auto& r : h.replicas) r.join(all);
        for (const auto& r : h.replicas) REQUIRE(r.state() == h.replicas[0].state());
    }
}

TEST_CASE("concurrent add and remove: the add wins: stale state never resurrects", "[membership]") {
    membership_set a("a/1"), b("b/1");
    a.add(spec_named("x", 1));
    b.join(a.state());
    a.remove("x");              // a removes the x it saw
    b.add(spec_named("x", 2));  // concurrently, b re-adds x with a new incarnation
    a.join(b.state());
    b.join(a.state());
    CHECK(a.members() == std::vector<std::string>{"x"});
    CHECK(a.find("x")->incarnation == 2);
    CHECK(a.state() == b.state());

    membership_set c("c/1");
    c.add(spec_named("y"));
    const auto stale = c.state();
    c.remove("y");
    c.join(stale);  // old gossip about y arrives late
    CHECK(c.members().empty());
}

TEST_CASE("concurrent specs for one name: one name, the higher incarnation", "[membership]") {
    membership_set a("a/1"), b("b/1");
    a.add(spec_named("x", 3));
    b.add(spec_named("x", 8));
    a.join(b.state());
    CHECK(a.members() == std::vector<std::string>{"x"});
    CHECK(a.find("x")->incarnation == 8);
    CHECK(specs_of(a.state()).size() == 1);
}

TEST_CASE("removals leave no tombstones beyond the compacted context", "[membership]") {
    membership_set set("r/1");
    for (int i = 0; i < 1000; ++i) {
        set.add(spec_named("n" + std::to_string(i % 10)));
        if (i % 3 == 0) set.remove("n" + std::to_string(i % 10));
    }
    CHECK(set.state().entries.size() <= 10);
    CHECK(set.state().context.interval_count() == 1);  // one actor, one compact interval
}

TEST_CASE("two replicas' fingerprints are equal exactly when their digests are, and follow every change",
          "[membership][property]") {
    for (std::uint64_t seed = 1; seed <= cases; ++seed) {
        CAPTURE(seed);
        history h(seed, 4, 40);
        for (auto& r : h.replicas) {
            // The cached value is the one a fresh computation gives, after all those changes.
            REQUIRE(r.fingerprint() == fingerprint_of(digest_of(r.state())));
            REQUIRE(r.digest() == digest_of(r.state()));
        }
        for (const auto& a : h.replicas)
            for (const auto& b : h.replicas)
                REQUIRE((a.digest() == b.digest()) == (a.fingerprint() == b.fingerprint()));
        membership_state all;
        for (const auto& r : h.replicas) join_states(all, r.state());
        const auto before = h.replicas[0].fingerprint();
        const bool behind = !(h.replicas[0].digest() == digest_of(all));
        for (auto& r : h.replicas) r.join(all);
        // Caught up: every replica's fingerprint is the same, and a replica that moved shows it.
        for (const auto& r : h.replicas) REQUIRE(r.fingerprint() == h.replicas[0].fingerprint());
        if (behind) REQUIRE(h.replicas[0].fingerprint() != before);
    }
}

TEST_CASE("a fingerprint reads the digest's canonical form: names and ranges cannot blur", "[membership]") {
    membership_digest ab, a_b;
    ab.context.insert(dot{"ab", 1});
    a_b.context.insert(dot{"a", 1});
    CHECK(fingerprint_of(ab) != fingerprint_of(a_b));
    membership_digest seen_only, live_only;
    seen_only.context.insert(dot{"x", 3});
    live_only.live.insert(dot{"x", 3});
    CHECK(fingerprint_of(seen_only) != fingerprint_of(live_only));
    membership_digest two_ranges, one_range;
    two_ranges.context.insert(dot{"x", 1});
    two_ranges.context.insert(dot{"x", 3});
    one_range.context.insert(dot{"x", 1});
    one_range.context.insert(dot{"x", 2});
    one_range.context.insert(dot{"x", 3});
    CHECK(fingerprint_of(two_ranges) != fingerprint_of(one_range));
    CHECK(fingerprint_of(membership_digest{}) == fingerprint_of(membership_digest{}));
}
