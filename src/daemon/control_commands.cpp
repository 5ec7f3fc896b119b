#include "daemon/control_commands.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <stdexcept>

#include "control/control_request.hpp"
#include "daemon/health_check.hpp"
#include "control/member_specs.hpp"
#include "wire/base64.hpp"

namespace zpartisan::daemon {

namespace {

using control::control_command;
using control::control_request;
using control::default_join_wait_ms;
using control::member_specs_of;
using control::parse_control_request;
using nlohmann::json;

json error(const std::string& text) { return {{"ok", false}, {"error", text}}; }

// Requests, payloads and names may hold bytes that are not UTF-8 (a parse error quotes the
// offending byte): those are written as U+FFFD instead of failing the answer.
std::string to_text(const json& answer) { return answer.dump(-1, ' ', false, json::error_handler_t::replace); }

json from_op(const op_result& result) {
    if (result.ok()) return {{"ok", true}};
    return {{"ok", false},
            {"error", std::string(to_string(result.status)) + (result.reason.empty() ? "" : ": " + result.reason)}};
}

// The send status rides along either way, so a script tells "refused" from "not delivered".
json from_send(send_status status) {
    if (status == send_status::ok) return {{"ok", true}, {"status", "ok"}};
    return {{"ok", false}, {"status", to_string(status)}, {"error", to_string(status)}};
}

// An acked forward the sender gave up on, or that no report settled by the deadline.
json not_delivered(const std::string& reason, const std::string& why) {
    return {
        {"ok", false}, {"status", "ok"}, {"delivered", false}, {"reason", reason}, {"error", "not delivered: " + why}};
}

// Answered by its delivery report, or at the deadline: either may come first, the other finds
// the wait answered. Nothing after open() throws out of here, so the caller never answers too.
void forward_acked(Node& node, report_waits& waits, const control_request& request, const answer_sink& answer) {
    const auto wait = request.wait_ms ? std::chrono::milliseconds(*request.wait_ms) : waits.default_wait();
    const auto id =
        waits.open(report_waits::clock::now() + wait,
                   to_text(not_delivered("timeout", "no delivery report within " + std::to_string(wait.count()) +
                                                        " ms (it may still be delivered)")),
                   answer);
    message_options options;
    options.ack = true;
    options.on_report = [&waits, id](const delivery_report& report) {
        (void)waits.finish(id, to_text(report.delivered ? json{{"ok", true}, {"status", "ok"}, {"delivered", true}}
                                                        : not_delivered(report.reason, report.reason)));
    };
    try {
        const auto status = node.forward_message(request.node, request.handler, request.payload, options);
        if (status != send_status::ok) {
            auto refused = from_send(status);
            refused["delivered"] = false;
            refused["reason"] = to_string(status);
            (void)waits.finish(id, to_text(refused));
        }
    } catch (const std::exception& e) {
        (void)waits.finish(id, to_text(error(std::string("bad request: ") + e.what())));
    }
}

json from_partition(const partition_result& result) {
    if (!result.ok()) return error(std::string(to_string(result.status)) + ": " + result.reason);
    return {{"ok", true}, {"ref", result.ref}};
}

// Answered once the origin holds the cut or the node gave it up (by its ack timeout), on the
// node's callback thread; the deadline here only covers a node that never answers.
void partition_origin(Node& node, report_waits& waits, const control_request& request, const answer_sink& answer) {
    const auto origin = request.origin.value_or(node.name());
    const auto wait = waits.default_wait();
    const auto id = waits.open(
        report_waits::clock::now() + wait,
        to_text(error("timeout: no answer from the node within " + std::to_string(wait.count()) + " ms")), answer);
    try {
        node.inject_partition(origin, request.ttl, [&waits, id](const partition_result& result) {
            (void)waits.finish(id, to_text(from_partition(result)));
        });
    } catch (const std::exception& e) {
        (void)waits.finish(id, to_text(error(std::string("bad request: ") + e.what())));
    }
}

json update_members(Node& node, const control_request& request) {
    return from_op(node.update_members(member_specs_of(request.specs, node.members_for_orchestration())));
}

json members(Node& node) {
    json rows = json::array();
    std::map<std::string, liveness_info> seen;
    for (auto& entry : node.liveness()) seen[entry.node] = entry;
    for (const auto& spec : node.members_for_orchestration()) {
        const auto it = seen.find(spec.name);
        const bool self = spec.name == node.name();
        rows.push_back({{"name", spec.name},
                        {"role", std::string(to_string(spec.role))},
                        {"home", spec.home_server},
                        {"reachable", self || (it != seen.end() && it->second.reachable)},
                        {"direct", it != seen.end() && it->second.direct},
                        {"detected_by", it != seen.end() ? it->second.detected_by : ""},
                        {"silent_ms", it != seen.end() ? it->second.silent_ms : 0},
                        {"last_heard_ms_ago",
                         it != seen.end() && it->second.direct ? json(it->second.last_heard_ms_ago) : json(nullptr)},
                        {"router_endpoint", spec.router_endpoint},
                        {"incarnation", spec.incarnation}});
    }
    return {{"ok", true}, {"members", rows}};
}

json status(Node& node) {
    const auto s = node.status();
    json dials = json::array();
    for (const auto& d : s.dials)
        dials.push_back({{"endpoint", d.endpoint}, {"peer", d.peer}, {"welcomed", d.welcomed}});
    return {{"ok", true},
            {"name", s.self.name},
            {"role", std::string(to_string(s.self.role))},
            {"home", s.self.home_server},
            {"router_endpoint", s.self.router_endpoint},
            {"pub_endpoint", s.self.pub_endpoint},
            {"incarnation", s.self.incarnation},
            {"running", s.running && node.running()},
            {"stopped_reason", node.stopped_reason()},
            {"settled", s.settled},
            {"members", s.member_count},
            {"dials", dials},
            {"attached_clients", s.attached_clients}};
}

// Readiness (settled, daemon/health_check.hpp), or with live only that the process answers.
json health(const Node& node, bool live) {
    if (live) return {{"ok", true}, {"healthy", true}, {"live", true}, {"running", node.running()}};
    const auto verdict = health_of(node);
    json answer = {{"ok", verdict.healthy}, {"healthy", verdict.healthy}, {"reason", verdict.reason}};
    if (!verdict.healthy) answer["error"] = "unhealthy: " + verdict.reason;
    return answer;
}

// Every command answered at once (all but the acked forward and the partition by origin).
json dispatch(Node& node, const inbox& box, const control_request& request) {
    switch (request.command) {
        case control_command::members:
            return members(node);
        case control_command::status:
            return status(node);
        case control_command::health:
            return health(node, request.live);
        case control_command::metrics: {
            const auto s = node.status();
            auto counters = s.counters;
            counters["membership_size"] = s.member_count;
            return {{"ok", true}, {"counters", counters}};
        }
        case control_command::state: {
            json specs = json::array();
            for (const auto& spec : node.members_for_orchestration())
                specs.push_back({{"name", spec.name},
                                 {"role", std::string(to_string(spec.role))},
                                 {"home", spec.home_server},
                                 {"router_endpoint", spec.router_endpoint},
                                 {"pub_endpoint", spec.pub_endpoint},
                                 {"incarnation", spec.incarnation},
                                 {"tag", spec.tag},
                                 {"public_key", spec.public_key}});
            return {{"ok", true}, {"state_bytes", node.get_local_state().size()}, {"specs", specs}};
        }
        case control_command::inbox: {
            json rows = json::array();
            for (const auto& m : box.snapshot())
                rows.push_back({{"from", m.from},
                                {"kind", m.kind},
                                {"payload", m.payload},
                                {"payload_base64", wire::base64_encode(m.payload)},
                                {"received_unix_ms", m.received_unix_ms}});
            return {{"ok", true}, {"messages", rows}};
        }
        case control_command::send:
            return from_send(node.send_message(request.node, request.payload));
        case control_command::forward:
            return from_send(node.forward_message(request.node, request.handler, request.payload));
        case control_command::update_members:
            return update_members(node, request);
        case control_command::join:
            return from_op(node.sync_join(request.endpoint,
                                          std::chrono::milliseconds(request.wait_ms.value_or(default_join_wait_ms))));
        case control_command::leave:
            return from_op(node.leave());
        case control_command::remove:
            return from_op(node.leave(request.node));
        case control_command::partition:
            return from_partition(node.partition_groups(request.groups));
        case control_command::heal:
            return from_op(node.resolve_partition(request.ref));
        case control_command::partitions: {
            json rows = json::array();
            for (const auto& p : node.partitions()) rows.push_back({{"ref", p.ref}, {"peer", p.peer}});
            return {{"ok", true}, {"partitions", rows}};
        }
    }
    return error(std::string("unknown command '") + name_of(request.command) + "'");
}

}  // namespace

void handle_control_request(Node& node, const inbox& box, report_waits& waits, const std::string& request,
                            const answer_sink& answer) {
    auto parsed = parse_control_request(request);
    if (const auto* why = std::get_if<std::string>(&parsed)) {
        answer(to_text(error(*why)));
        return;
    }
    const auto& checked = std::get<control_request>(parsed);
    if (checked.command == control_command::forward && checked.ack) {
        forward_acked(node, waits, checked, answer);
        return;  // answered by its report, or at its deadline
    }
    if (checked.command == control_command::partition && !checked.by_groups) {
        partition_origin(node, waits, checked, answer);
        return;  // answered once the origin holds it, or it was given up
    }
    json now;
    try {
        now = dispatch(node, box, checked);
    } catch (const std::exception& e) {
        now = error(std::string("bad request: ") + e.what());
    }
    answer(to_text(now));
}

}  // namespace zpartisan::daemon
