// Writes the corpus seeds: valid inputs made by the real encoders, one file per case, into
// CORPUS_DIR/<target>/seed-<case>. Run once when a format changes (docs/fuzzing.md); the
// fuzzers grow the corpus from these.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "sample_state.hpp"
#include "wire/codec.hpp"
#include "wire/routed_codec.hpp"
#include "wire/state_file.hpp"

namespace fs = std::filesystem;
using namespace zpartisan;
using namespace zpartisan::fuzz;

namespace {

fs::path root;

void write(const char* target, const std::string& name, const std::string& bytes) {
    const auto dir = root / target;
    fs::create_directories(dir);
    std::ofstream(dir / ("seed-" + name), std::ios::binary) << bytes;
}

core::forward sample_forward() {
    core::forward m;
    m.origin = "c1";
    m.origin_incarnation = 6;
    m.destination = "c2";
    m.handler = "inbox";
    m.kind = core::delivery_kind::forward;
    m.channel = "bulk";
    m.lane = 2;
    m.hops = 1;
    m.payload = "hello";
    return m;
}

void wire_seeds() {
    const auto& set = sample_membership();
    const auto spec = sample_spec("s1", role::server, 3);
    write("wire_codec", "hello", wire::encode(core::hello{5, "demo", spec, set.state()}));
    write("wire_codec", "welcome", wire::encode(core::welcome{spec, set.state(), 42}));
    write("wire_codec", "referral",
          wire::encode(core::referral{"full", "s2", {"tcp://10.0.0.2:7000", "tcp://10.0.0.1:7000"}, {}}));
    write("wire_codec", "refusal", wire::encode(core::refusal{core::refusal_reason::wrong_cluster, "cluster 'x'"}));
    write("wire_codec", "delta", wire::encode(core::delta{"s1", 7, set.state()}));
    write("wire_codec", "digest-full", wire::encode(core::digest{"s1", set.digest(), set.fingerprint(), true}));
    write("wire_codec", "digest-fingerprint", wire::encode(core::digest{"s1", {}, set.fingerprint(), false}));
    write("wire_codec", "sync-delta", wire::encode(core::sync_delta{"s2", 9, set.state()}));
    write("wire_codec", "beacon", wire::encode(core::beacon{"s1", 12, core::unlimited_slots}));
    write("wire_codec", "heartbeat", wire::encode(core::heartbeat{"c1"}));
    write("wire_codec", "liveness", wire::encode(core::liveness{"s1", "c1", false, 3000, 3, true}));
    write("wire_codec", "partition-request", wire::encode(core::partition_request{"p1", "s2", 1, "c1"}));
    write("wire_codec", "partition-applied", wire::encode(core::partition_applied{"p1", "c1", "s2"}));
    write("wire_codec", "partition-resolve", wire::encode(core::partition_resolve{"p1"}));
    write("wire_codec", "partition-groups", wire::encode(core::partition_groups{"p2", {{"s1", "c1"}, {"s2"}}}));
    write("wire_codec", "forward", wire::encode(sample_forward()));
    write("wire_codec", "forward-ack", wire::encode(core::forward_ack{"c2", "c1", 17, core::ack_status::delivered, 2}));
    write("wire_codec", "state", wire::encode_state(set.state()));
}

void routed_seeds() {
    auto plain = sample_forward();
    write("routed_codec", "forward", wire::encode(plain));
    auto acked = plain;
    acked.ack = true;
    acked.id = 17;
    acked.previous_id = 16;
    acked.settled_below = 12;
    acked.kind = core::delivery_kind::call;
    acked.reply_to = "r7@c1";
    write("routed_codec", "forward-acked", wire::encode(acked));
    std::string bundle;
    wire::start_bundle(wire::fields_of(plain), bundle);
    for (const char* entry : {"one", "", "three"}) wire::append_bundle_entry(bundle, entry);
    write("routed_codec", "bundle", bundle);
    write("routed_codec", "forward-ack",
          wire::encode(core::forward_ack{"c2", "c1", 17, core::ack_status::unknown_handler, 1}));
}

void control_seeds() {
    const char* requests[][2] = {
        {"members", R"({"cmd":"members"})"},
        {"status", R"({"cmd":"status"})"},
        {"metrics", R"({"cmd":"metrics"})"},
        {"state", R"({"cmd":"state"})"},
        {"inbox", R"({"cmd":"inbox"})"},
        {"send", R"({"cmd":"send","node":"c2","payload":"hi"})"},
        {"send-base64", R"({"cmd":"send","node":"c2","payload_base64":"AP/+IG9r"})"},
        {"forward", R"({"cmd":"forward","node":"c2","handler":"inbox","payload":"hi","ack":false})"},
        {"forward-acked",
         R"({"cmd":"forward","node":"c2","handler":"inbox","payload":"hi","ack":true,"timeout_ms":6000})"},
        {"update-members",
         R"({"cmd":"update_members","specs":[{"name":"c9","role":"client","router_endpoint":"tcp://10.0.0.9:7100","home":"s1","incarnation":1,"tag":"gpu"},{"name":"s1","pub_endpoint":"tcp://10.0.0.1:7011"}]})"},
        {"join", R"({"cmd":"join","endpoint":"tcp://10.0.0.1:7000","timeout_ms":5000})"},
        {"leave", R"({"cmd":"leave"})"},
        {"remove", R"({"cmd":"remove","node":"c1"})"},
        {"partition-origin", R"({"cmd":"partition","origin":"s2","ttl":1})"},
        {"partition-groups", R"({"cmd":"partition","groups":[["s1","c1"],["s2"]]})"},
        {"heal", R"({"cmd":"heal","ref":"p1"})"},
        {"partitions", R"({"cmd":"partitions"})"},
    };
    for (const auto& [name, text] : requests) write("control_request", name, text);
}

void state_file_seeds() {
    write("state_file", "sample", wire::encode_state_file({7, sample_membership().state()}));
    write("state_file", "empty", wire::encode_state_file({1, {}}));
    // Inputs the target also frames as a file's state: the state alone.
    write("state_file", "state-only", wire::encode_state(sample_membership().state()));
}

void digest_seeds() {
    const auto& set = sample_membership();
    for (const auto& [name, digest] :
         {std::pair<const char*, core::digest>{"full", {"s2", set.digest(), set.fingerprint(), true}},
          {"fingerprint", {"s2", {}, set.fingerprint(), false}},
          {"behind", {"c1", core::digest_of(core::membership_state{}), 0, true}}}) {
        const auto frame = wire::encode(digest);
        write("digest", name, frame.substr(wire::header_bytes));  // the target adds the header
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    root = argv[1];
    wire_seeds();
    routed_seeds();
    control_seeds();
    state_file_seeds();
    digest_seeds();
    return 0;
}
