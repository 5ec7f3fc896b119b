// The daemon's control protocol: fed garbage, every request gets one JSON answer, never an
// exception (one escaping would end the daemon); acked forwards answer with their delivery
// report while other requests are served; payloads of any bytes; update_members.
#include <nlohmann/json.hpp>

#include <atomic>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "cluster_fixture.hpp"
#include "daemon/control_commands.hpp"
#include "control/control_channel.hpp"

#include <zmq.hpp>

using namespace zpartisan;
using namespace zpartisan::test;
using nlohmann::json;

namespace {

// The answers one request got, from this thread or a node's callback thread.
struct collected_answers {
    std::mutex mutex;
    std::vector<std::string> texts;

    std::size_t count() {
        std::lock_guard lock(mutex);
        return texts.size();
    }
};

// What the daemon keeps beside its node: declared before the node, so the node's late delivery
// reports (at its destruction) still find the waits.
struct control_asker {
    using report_waits_clock = daemon::report_waits::clock;

    daemon::inbox box{10};
    daemon::report_waits waits{std::chrono::milliseconds(6000)};

    // Asks, without waiting for an answer that comes later.
    std::shared_ptr<collected_answers> ask_async(Node& node, const std::string& request) {
        auto collected = std::make_shared<collected_answers>();
        REQUIRE_NOTHROW(daemon::handle_control_request(node, box, waits, request, [collected](const std::string& text) {
            std::lock_guard lock(collected->mutex);
            collected->texts.push_back(text);
        }));
        return collected;
    }

    // The one answer, however late: the waits past their deadline are answered meanwhile, as
    // the daemon's control loop does.
    json answer_of(collected_answers& collected) {
        WAIT_FOR("an answer", ((void)waits.expire(report_waits_clock::now()), collected.count() > 0));
        std::lock_guard lock(collected.mutex);
        REQUIRE(collected.texts.size() == 1);
        json answer;
        REQUIRE_NOTHROW(answer = json::parse(collected.texts.front()));  // well-formed UTF-8 JSON, whatever came in
        REQUIRE(answer.contains("ok"));
        return answer;
    }

    json ask(Node& node, const std::string& request) { return answer_of(*ask_async(node, request)); }
};

// Two servers, s2 (with an inbox handler) joined through s1, with heartbeats that keep a silent peer reachable for
// seconds (a stopped s2 still takes sends, and never acknowledges them).
struct two_servers {
    std::unique_ptr<Node> s1, s2;
    two_servers() {
        auto cfg1 = test_config("s1", role::server);
        auto cfg2 = test_config("s2", role::server);
        cfg1.missed_heartbeats = cfg2.missed_heartbeats = 100;
        s1 = std::make_unique<Node>(cfg1);
        s2 = std::make_unique<Node>(cfg2);
        s2->register_handler("inbox", [](const inbound_message&) {});
        REQUIRE(s2->sync_join(s1->router_endpoint(), std::chrono::seconds(10)).ok());
        WAIT_FOR("converged", s1->members() == s2->members() && s1->members().size() == 2);
    }
};

}  // namespace

TEST_CASE("control requests that are malformed or not UTF-8 get an error answer", "[control]") {
    control_asker ctl;
    auto node = make_node("ctl", role::server);
    for (const std::string& request :
         {std::string(),
          std::string("\xff"),
          std::string("{\"cmd\":\"\xff\"}"),
          std::string("{\"cmd\":\"members\""),
          std::string("[1,2]"),
          std::string("{\"cmd\":42}"),
          std::string("{\"cmd\":\"send\"}"),
          std::string("{\"cmd\":\"forward\",\"node\":7}"),
          std::string("{\"cmd\":\"nope\"}"),
          std::string("{\"cmd\":\"join\",\"endpoint\":\"\xc3\x28\"}"),
          std::string("\"\xed\xa0\x80\""),
          std::string(R"({"cmd":"send","node":"ctl","payload_base64":"%%%%"})"),
          std::string(R"({"cmd":"send","node":"ctl","payload_base64":7})"),
          std::string(R"({"cmd":"send","node":"ctl","payload":"a","payload_base64":"YQ=="})"),
          std::string(R"({"cmd":"forward","node":"ctl","ack":"yes"})"),
          std::string(R"({"cmd":"forward","node":"ctl","ack":true,"timeout_ms":0})"),
          std::string(R"({"cmd":"forward","node":"ctl","ack":true,"timeout_ms":"5"})"),
          std::string(R"({"cmd":"forward","node":"ctl","ack":true,"timeout_ms":1e9})"),
          std::string(R"({"cmd":"forward","ack":true})"),
          std::string(R"({"cmd":"update_members"})"),
          std::string(R"({"cmd":"update_members","specs":{"name":"ctl"}})"),
          std::string(R"({"cmd":"update_members","specs":[7]})")}) {
        CAPTURE(request);
        CHECK(ctl.ask(*node, request)["ok"] == false);
    }
    std::mt19937 rng(7);
    for (int i = 0; i < 300; ++i) {
        std::string request(rng() % 64, '\0');
        for (auto& c : request) c = static_cast<char>(rng());
        if (i % 2 == 0) request = "{\"cmd\":\"" + request + "\"}";
        CAPTURE(request);
        CHECK(ctl.ask(*node, request)["ok"] == false);
    }
}

TEST_CASE("control answers carry bytes that are not UTF-8 as replacement characters, and exactly in base64",
          "[control]") {
    control_asker ctl;
    auto node = make_node("ctl", role::server);
    inbound_message binary;
    binary.from = "peer";
    binary.handler = "inbox";
    binary.payload = std::string("\x00\xff\xfe ok", 6);
    ctl.box.store(binary);
    const auto answer = ctl.ask(*node, R"({"cmd":"inbox"})");
    REQUIRE(answer["ok"] == true);
    REQUIRE(answer["messages"].size() == 1);
    CHECK(answer["messages"][0]["payload"].get<std::string>().ends_with(" ok"));
    CHECK(answer["messages"][0]["payload_base64"] == "AP/+IG9r");
    CHECK(ctl.ask(*node, R"({"cmd":"members"})")["ok"] == true);
}

TEST_CASE("a control request of several frames is refused whole, not run part by part", "[control]") {
    control::control_server server("tcp://127.0.0.1:*");
    zmq::context_t context;
    zmq::socket_t req(context, zmq::socket_type::req);
    req.set(zmq::sockopt::linger, 0);
    req.set(zmq::sockopt::rcvtimeo, 5000);
    req.connect(server.endpoint());
    (void)req.send(zmq::buffer(std::string_view(R"({"cmd":"members"})")), zmq::send_flags::sndmore);
    (void)req.send(zmq::buffer(std::string_view(R"({"cmd":"leave"})")), zmq::send_flags::none);
    std::optional<control::control_message> request;
    zmq::message_t answer;
    // Refused inside next_request, which then has nothing to hand over; the second part
    // never comes out as a request of its own.
    for (int i = 0; i < 25 && !request; ++i) {
        request = server.next_request(std::chrono::milliseconds(200));
        zmq::pollitem_t item{req.handle(), 0, ZMQ_POLLIN, 0};
        if (zmq::poll(&item, 1, std::chrono::milliseconds(0)) > 0) break;
    }
    CHECK_FALSE(request);
    REQUIRE(req.recv(answer));
    const auto refused = json::parse(answer.to_string());
    CHECK(refused["ok"] == false);
    CHECK(server.next_request(std::chrono::milliseconds(0)) == std::nullopt);
    (void)req.send(zmq::buffer(std::string_view(R"({"cmd":"members"})")), zmq::send_flags::none);
    for (int i = 0; i < 25 && !request; ++i) request = server.next_request(std::chrono::milliseconds(200));
    REQUIRE(request);
    CHECK(request->text == R"({"cmd":"members"})");
    server.reply(*request, "fine");
    server.flush();
    REQUIRE(req.recv(answer));
    CHECK(answer.to_string() == "fine");
}

TEST_CASE("control status of a node that left says it is not running, and why", "[control]") {
    control_asker ctl;
    auto node = make_node("ctl", role::server);
    auto running = ctl.ask(*node, R"({"cmd":"status"})");
    CHECK(running["running"] == true);
    CHECK(running["stopped_reason"] == "");
    REQUIRE(ctl.ask(*node, R"({"cmd":"leave"})")["ok"] == true);
    const auto left = ctl.ask(*node, R"({"cmd":"status"})");
    CHECK(left["ok"] == true);  // answered: zpartisan-ctl turns running false into exit 3
    CHECK(left["running"] == false);
    CHECK(left["stopped_reason"].get<std::string>().find("left the cluster") != std::string::npos);
    const auto again = ctl.ask(*node, R"({"cmd":"join","endpoint":"tcp://127.0.0.1:9"})");
    CHECK(again["ok"] == false);
    CHECK(again["error"].get<std::string>().find("new Node") != std::string::npos);
}

TEST_CASE("an acked forward is answered by its delivery report: delivered, or not and why", "[control][messaging]") {
    control_asker ctl;
    two_servers c;
    const auto delivered =
        ctl.ask(*c.s1, R"({"cmd":"forward","node":"s2","handler":"inbox","payload":"hi","ack":true})");
    INFO(delivered.dump());
    CHECK(delivered["ok"] == true);
    CHECK(delivered["status"] == "ok");
    CHECK(delivered["delivered"] == true);

    const auto no_handler =
        ctl.ask(*c.s1, R"({"cmd":"forward","node":"s2","handler":"nosuchhandler","payload":"hi","ack":true})");
    CHECK(no_handler["ok"] == false);
    CHECK(no_handler["status"] == "ok");  // it went out; the receiver said no
    CHECK(no_handler["delivered"] == false);
    CHECK(no_handler["reason"] == "unknown_handler");
    CHECK(no_handler["error"].get<std::string>().find("unknown_handler") != std::string::npos);

    const auto no_node = ctl.ask(*c.s1, R"({"cmd":"forward","node":"nobody","payload":"hi","ack":true})");
    CHECK(no_node["ok"] == false);
    CHECK(no_node["status"] == "unknown_node");
    CHECK(no_node["delivered"] == false);
    CHECK(no_node["reason"] == "unknown_node");

    // Without an ack there is no report: the answer is the send status.
    const auto plain = ctl.ask(*c.s1, R"({"cmd":"forward","node":"s2","handler":"nosuchhandler","payload":"hi"})");
    CHECK(plain == json{{"ok", true}, {"status", "ok"}});
    const auto refused = ctl.ask(*c.s1, R"({"cmd":"send","node":"nobody","payload":"hi"})");
    CHECK(refused["ok"] == false);
    CHECK(refused["status"] == "unknown_node");
    CHECK(ctl.waits.open_count() == 0);
}

TEST_CASE("an acked forward without a report by its timeout_ms is answered then, and other requests meanwhile",
          "[control][messaging]") {
    control_asker ctl;
    two_servers c;
    c.s2->stop();  // silent, and still reachable for s1 for seconds: the send goes out, no ack comes
    const auto began = std::chrono::steady_clock::now();
    auto pending = ctl.ask_async(
        *c.s1, R"({"cmd":"forward","node":"s2","handler":"inbox","payload":"hi","ack":true,"timeout_ms":300})");
    CHECK(pending->count() == 0);
    CHECK(ctl.waits.open_count() == 1);
    // The control endpoint is not held by the wait.
    const auto status = ctl.ask(*c.s1, R"({"cmd":"status"})");
    CHECK(status["ok"] == true);
    CHECK(pending->count() == 0);
    const auto late = ctl.answer_of(*pending);
    CHECK(std::chrono::steady_clock::now() - began >= std::chrono::milliseconds(300));
    CHECK(late["ok"] == false);
    CHECK(late["status"] == "ok");
    CHECK(late["delivered"] == false);
    CHECK(late["reason"] == "timeout");
    CHECK(ctl.waits.open_count() == 0);
    // The report that comes later (at s1's destruction at the latest) finds it answered.
}

TEST_CASE("report waits answer exactly once, whichever of the report and the deadline comes first", "[control]") {
    using clock = daemon::report_waits::clock;
    daemon::report_waits waits(std::chrono::milliseconds(100));
    CHECK(waits.default_wait() == std::chrono::milliseconds(100));
    std::atomic<int> answers{0};
    std::string last;
    const auto sink = [&](const std::string& text) {
        last = text;
        ++answers;
    };
    const auto now = clock::now();
    const auto early = waits.open(now + std::chrono::hours(1), "timed out", sink);
    const auto late = waits.open(now + std::chrono::milliseconds(5), "timed out", sink);
    CHECK(waits.expire(now) == now + std::chrono::milliseconds(5));
    CHECK(waits.finish(early, "report"));
    CHECK(last == "report");
    CHECK_FALSE(waits.finish(early, "again"));
    CHECK(waits.expire(now + std::chrono::milliseconds(5)) == std::nullopt);
    CHECK(last == "timed out");
    CHECK_FALSE(waits.finish(late, "report after the deadline"));
    CHECK(answers == 2);
    CHECK(waits.open_count() == 0);

    // Reports from other threads racing the deadline: still one answer each.
    std::vector<std::uint64_t> ids;
    for (int i = 0; i < 200; ++i) ids.push_back(waits.open(clock::now(), "timed out", sink));
    std::thread reporter([&] {
        for (const auto id : ids) (void)waits.finish(id, "report");
    });
    (void)waits.expire(clock::now());
    reporter.join();
    CHECK(answers == 202);
}

TEST_CASE("the control endpoint answers a later request while an earlier one waits, from any thread", "[control]") {
    control::control_server server("tcp://127.0.0.1:*");
    std::optional<std::string> first_answer, second_answer;
    std::thread first([&] { first_answer = control::ask(server.endpoint(), "first", std::chrono::seconds(10)); });
    std::optional<control::control_message> first_request;
    for (int i = 0; i < 50 && !first_request; ++i) first_request = server.next_request(std::chrono::milliseconds(200));
    REQUIRE(first_request);
    CHECK(first_request->text == "first");

    std::thread second([&] { second_answer = control::ask(server.endpoint(), "second", std::chrono::seconds(10)); });
    std::optional<control::control_message> second_request;
    for (int i = 0; i < 50 && !second_request; ++i)
        second_request = server.next_request(std::chrono::milliseconds(200));
    REQUIRE(second_request);
    CHECK(second_request->text == "second");
    server.reply(*second_request, "to the second");
    for (int i = 0; i < 50 && !second_answer; ++i) (void)server.next_request(std::chrono::milliseconds(100));
    second.join();
    CHECK(second_answer == std::optional<std::string>("to the second"));
    CHECK_FALSE(first_answer);

    // Answered from another thread while the serving thread waits for requests.
    std::thread reporter([&] { server.reply(*first_request, "to the first"); });
    reporter.join();
    const auto began = std::chrono::steady_clock::now();
    (void)server.next_request(std::chrono::milliseconds(2000));  // sends it, then waits out its time
    first.join();
    CHECK(first_answer == std::optional<std::string>("to the first"));
    CHECK(std::chrono::steady_clock::now() - began < std::chrono::milliseconds(4000));
}

TEST_CASE("payloads of any bytes go in and come out of the inbox exactly as base64", "[control]") {
    control_asker ctl;
    auto node = make_node("ctl", role::server);
    node->register_handler("inbox", [&ctl](const inbound_message& m) { ctl.box.store(m); });
    const auto sent = ctl.ask(*node, R"({"cmd":"forward","node":"ctl","handler":"inbox","payload_base64":"AP/+AQ=="})");
    REQUIRE(sent["ok"] == true);
    const auto acked = ctl.ask(*node, R"({"cmd":"forward","node":"ctl","payload_base64":"gA==","ack":true})");
    CHECK(acked["delivered"] == true);
    const auto sent_plain = ctl.ask(*node, R"({"cmd":"send","node":"ctl","payload":"text"})");
    REQUIRE(sent_plain["ok"] == true);
    WAIT_FOR("three messages in the inbox", ctl.box.snapshot().size() == 3);
    const auto inbox = ctl.ask(*node, R"({"cmd":"inbox"})");
    std::multiset<std::string> encoded, payloads;
    for (const auto& m : inbox["messages"]) encoded.insert(m["payload_base64"].get<std::string>());
    for (const auto& m : ctl.box.snapshot()) payloads.insert(m.payload);
    CHECK(encoded == std::multiset<std::string>{"AP/+AQ==", "gA==", "dGV4dA=="});
    CHECK(payloads == std::multiset<std::string>{std::string("\x00\xff\xfe\x01", 4), "\x80", "text"});

    const auto bad = ctl.ask(*node, R"({"cmd":"send","node":"ctl","payload_base64":"AP/"})");
    CHECK(bad["ok"] == false);
    CHECK(bad["error"].get<std::string>().find("payload_base64") != std::string::npos);
}

TEST_CASE("update_members makes membership the given specs, and a field left out keeps the member's value",
          "[control]") {
    control_asker ctl;
    auto node = make_node("ctl", role::server);
    const auto added = ctl.ask(*node, R"({"cmd":"update_members","specs":[{"name":"ctl"},
        {"name":"planned","role":"client","router_endpoint":"tcp://127.0.0.1:1","home":"ctl","incarnation":7,"tag":"blue"}]})");
    REQUIRE(added == json{{"ok", true}});
    const auto planned = [&]() -> std::optional<node_spec> {
        for (const auto& spec : node->members_for_orchestration())
            if (spec.name == "planned") return spec;
        return std::nullopt;
    };
    REQUIRE(planned());
    CHECK(*planned() == node_spec{"planned", role::client, "tcp://127.0.0.1:1", "", "ctl", 7, "blue", ""});

    // Named alone, it stays as it is; a changed field changes only that field.
    REQUIRE(ctl.ask(*node, R"({"cmd":"update_members","specs":[{"name":"planned"}]})")["ok"] == true);
    CHECK(*planned() == node_spec{"planned", role::client, "tcp://127.0.0.1:1", "", "ctl", 7, "blue", ""});
    REQUIRE(ctl.ask(*node, R"({"cmd":"update_members","specs":[{"name":"planned","incarnation":8}]})")["ok"] == true);
    CHECK(planned()->incarnation == 8);
    CHECK(planned()->tag == "blue");

    // Left out of the list: removed (this node stays whatever the list says).
    REQUIRE(ctl.ask(*node, R"({"cmd":"update_members","specs":[]})")["ok"] == true);
    CHECK_FALSE(planned());
    CHECK(node->members() == std::vector<std::string>{"ctl"});

    for (
        const std::string specs :
        {R"([{"name":"new"}])", R"([{"name":"new","role":"client"}])",
         R"([{"name":"new","router_endpoint":"tcp://127.0.0.1:2"}])",
         R"([{"name":"new","role":"banana","router_endpoint":"tcp://127.0.0.1:2"}])",
         R"([{"name":"new","role":"client","router_endpoint":"tcp://*:2"}])",
         R"([{"name":"new","role":"client","router_endpoint":"nonsense"}])",
         R"([{"name":"new","role":"client","router_endpoint":"tcp://127.0.0.1:2","pub_endpoint":"tcp://127.0.0.1:*"}])",
         R"([{"name":"new","role":"client","router_endpoint":"tcp://127.0.0.1:2","incarnation":-1}])",
         R"([{"name":"new","role":"client","router_endpoint":"tcp://127.0.0.1:2","incarnation":1.5}])",
         R"([{"name":"new","role":"client","router_endpoint":"tcp://127.0.0.1:2","endpoint":"x"}])",
         R"([{"name":"a@b","role":"client","router_endpoint":"tcp://127.0.0.1:2"}])", R"([{"name":""}])",
         R"([{"name":7}])", R"([{"role":"client"}])", R"([{"name":"ctl"},{"name":"ctl"}])", R"(["ctl"])"}) {
        CAPTURE(specs);
        const auto answer = ctl.ask(*node, R"({"cmd":"update_members","specs":)" + specs + "}");
        CHECK(answer["ok"] == false);
        CHECK(answer["error"].get<std::string>().find("spec") != std::string::npos);
    }
    CHECK(node->members() == std::vector<std::string>{"ctl"});  // nothing half-applied
}
