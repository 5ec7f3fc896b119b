// A node restarted with its data_dir rejoins by itself; a damaged state file never crashes it.
#include <filesystem>
#include <fstream>

#include "cluster_fixture.hpp"

using namespace zpartisan;
using namespace zpartisan::test;
using namespace std::chrono_literals;

namespace {
struct temp_dir {
    std::filesystem::path path;
    temp_dir() {
        path = std::filesystem::temp_directory_path() /
               ("zpartisan-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
        std::filesystem::remove_all(path);
    }
    ~temp_dir() { std::filesystem::remove_all(path); }
    static int& counter() {
        static int value = 0;
        return value;
    }
};

std::unique_ptr<Node> node_with_dir(const std::string& name, role r, const temp_dir& dir) {
    auto cfg = test_config(name, r);
    cfg.data_dir = dir.path.string();
    return std::make_unique<Node>(cfg);
}

std::optional<node_spec> spec_of(const Node& node, const std::string& name) {
    for (const auto& spec : node.members_for_orchestration())
        if (spec.name == name) return spec;
    return std::nullopt;
}
}  // namespace

TEST_CASE("a server restarted with its data_dir rejoins the cluster on its own", "[persistence]") {
    temp_dir dir;
    auto s1 = make_node("s1", role::server);
    auto s3 = make_node("s3", role::server);
    auto c1 = make_node("c1", role::client);
    auto s2 = node_with_dir("s2", role::server, dir);
    REQUIRE(s2->sync_join(s1->router_endpoint(), 10s).ok());
    REQUIRE(s3->sync_join(s1->router_endpoint(), 10s).ok());
    REQUIRE(c1->sync_join(s2->router_endpoint(), 10s).ok());
    const std::vector<std::string> all{"c1", "s1", "s2", "s3"};
    WAIT_FOR("all converge", s1->members() == all && s2->members() == all && s3->members() == all);
    WAIT_FOR("s2 wrote its state", s2->status().counters["state_writes"] >= 2);
    const auto old_incarnation = spec_of(*s1, "s2")->incarnation;

    s2.reset();                                   // stopped without leaving, as a crash would
    s2 = node_with_dir("s2", role::server, dir);  // a new port, a new incarnation, no join call
    CHECK(s2->members() == all);                  // restored at once from disk
    WAIT_FOR("s1 sees the new incarnation of s2",
             spec_of(*s1, "s2") && spec_of(*s1, "s2")->incarnation > old_incarnation);
    WAIT_FOR("s3 dials the restarted s2 at its new endpoint", [&] {
        for (const auto& dial : s3->status().dials)
            if (dial.peer == "s2" && dial.welcomed && dial.endpoint == s2->router_endpoint()) return true;
        return false;
    }());
    WAIT_FOR("the restarted s2 is settled with every server",
             s2->status().settled && welcomed_peers(*s2) == (std::vector<std::string>{"s1", "s3"}));
    WAIT_FOR("everyone still lists the same 4",
             s1->members() == all && s2->members() == all && s3->members() == all && c1->members() == all);
}

TEST_CASE("a truncated or garbage state file gives a fresh start, not a crash", "[persistence]") {
    const std::string damaged = GENERATE(std::string(), std::string("ZPDS"),
                                         std::string("ZPDS\x01garbage-garbage-garbage"), std::string(1000, '\x42'));
    temp_dir dir;
    std::filesystem::create_directories(dir.path);
    {
        std::ofstream out(dir.path / "membership.state", std::ios::binary);
        out << damaged;
    }
    auto s1 = node_with_dir("s1", role::server, dir);
    CHECK(s1->members() == std::vector<std::string>{"s1"});
    CHECK(std::filesystem::exists(dir.path / "membership.state.corrupt"));
}

TEST_CASE("a state file cut short after a real save is detected", "[persistence]") {
    temp_dir dir;
    {
        auto s1 = node_with_dir("s1", role::server, dir);
        auto s2 = make_node("s2", role::server);
        REQUIRE(s2->sync_join(s1->router_endpoint(), 10s).ok());
        WAIT_FOR("s1 persisted a change", s1->status().counters["state_writes"] >= 2);
    }
    const auto file = dir.path / "membership.state";
    const auto size = std::filesystem::file_size(file);
    std::filesystem::resize_file(file, size / 2);
    auto s1 = node_with_dir("s1", role::server, dir);
    CHECK(s1->members() == std::vector<std::string>{"s1"});
}

TEST_CASE("leave deletes the persisted state", "[persistence]") {
    temp_dir dir;
    auto s1 = node_with_dir("s1", role::server, dir);
    WAIT_FOR("state written", std::filesystem::exists(dir.path / "membership.state"));
    REQUIRE(s1->leave().ok());
    CHECK_FALSE(std::filesystem::exists(dir.path / "membership.state"));
}
