// Specs in the membership state are shared, not copied: equality by value, one copy however
// many replicas, deltas and messages hold it, and a copy that lives as long as its last holder.
#include <catch2/catch.hpp>

#include "core/membership_set.hpp"
#include "core/messages.hpp"
#include "wire/codec.hpp"

using namespace zpartisan;
using namespace zpartisan::core;

namespace {

node_spec spec_named(const std::string& name, std::uint64_t incarnation = 1) {
    return node_spec{name, role::client, "tcp://" + name + ".example:5555", "", "s1", incarnation, "", ""};
}

const shared_spec& only_entry(const membership_state& state) {
    REQUIRE(state.entries.size() == 1);
    return state.entries.begin()->second;
}

}  // namespace

TEST_CASE("shared specs compare by value, whether or not they share a copy", "[membership][sharing]") {
    const shared_spec a(spec_named("a"));
    const shared_spec same_value(spec_named("a"));
    const shared_spec copy = a;
    CHECK(a == same_value);
    CHECK_FALSE(a.shares_with(same_value));
    CHECK(a == copy);
    CHECK(a.shares_with(copy));
    CHECK(a != shared_spec(spec_named("a", 2)));
    CHECK(a < shared_spec(spec_named("b")));
    CHECK(shared_spec() == shared_spec(node_spec{}));
    CHECK(copy->router_endpoint == "tcp://a.example:5555");
}

TEST_CASE("replicas that learn a spec through deltas and states share the one copy", "[membership][sharing]") {
    membership_set origin("a/1"), b("b/1"), c("c/1");
    const auto delta = origin.add(spec_named("a"));
    const auto& made = only_entry(delta);
    b.join(delta);
    c.join(b.state());  // a full state passed on, as a welcome carries it
    membership_state effect;
    membership_set d("d/1");
    d.join(c.state(), &effect);  // what a server passes on: the effect of a merge
    for (const auto* replica : {&origin, &b, &c, &d}) {
        const auto* held = replica->spec_of("a");
        REQUIRE(held != nullptr);
        CHECK(held == &*made);  // the very same node_spec object, not an equal copy
    }
    CHECK(only_entry(effect).shares_with(made));
    CHECK(b.delta_since(membership_digest{}).entries.begin()->second.shares_with(made));
    // delta, origin, b, c, d and effect: six holders of one copy.
    CHECK(made.holders() == 6);
}

TEST_CASE("a shared spec lives as long as its last holder, and goes with it", "[membership][sharing]") {
    shared_spec kept;
    {
        membership_set origin("a/1"), other("b/1");
        other.join(origin.add(spec_named("a")));
        kept = only_entry(other.state());
        CHECK(kept.holders() == 3);  // origin, other and kept
        other.join(origin.remove("a"));
        CHECK_FALSE(other.contains("a"));
        CHECK(kept.holders() == 1);  // the removal dropped both replicas' handles
    }
    // Both replicas are gone too; the copy is still whole for the one who kept it.
    CHECK(kept.holders() == 1);
    CHECK(kept->name == "a");
    CHECK(kept->home_server == "s1");
}

TEST_CASE("a decoded state shares its specs with the replica that joins it, and encodes the same bytes",
          "[membership][sharing][wire]") {
    membership_set origin("s1/1");
    origin.add(spec_named("s1"));
    origin.add(spec_named("c1"));
    const welcome sent{spec_named("s1"), origin.state(), 7, 0};
    const auto bytes = wire::encode(sent);
    const auto decoded = wire::decode(bytes, 1u << 20);
    REQUIRE(decoded.message);
    const auto& received = std::get<welcome>(*decoded.message);
    CHECK(received.state == origin.state());
    membership_set joiner("c2/1");
    joiner.join(received.state);
    CHECK(joiner.spec_of("c1") == &*received.state.entries.rbegin()->second);
    CHECK(wire::encode(received) == bytes);
}
