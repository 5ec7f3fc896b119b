#include "daemon/control_commands.hpp"

#include <chrono>

namespace zpartisan::daemon {

namespace {

using nlohmann::json;

json error(const std::string& text) { return {{"ok", false}, {"error", text}}; }

// Requests, payloads and names may hold bytes that are not UTF-8 (a parse error quotes the
// offending byte): those are written as U+FFFD instead of failing the answer.
std::string to_text(const json& answer) { return answer.dump(-1, ' ', false, json::error_handler_t::replace); }

json from_op(const op_result& result) {
    if (result.ok()) return {{"ok", true}};
    return {{"ok", false}, {"error", std::string(to_string(result.status)) + (result.reason.empty() ? "" : ": " + result.reason)}};
}

json from_send(send_status status) {
    if (status == send_status::ok) return {{"ok", true}};
    return error(to_string(status));
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
                        {"last_heard_ms_ago", it != seen.end() && it->second.direct ? json(it->second.last_heard_ms_ago) : json(nullptr)},
                        {"router_endpoint", spec.router_endpoint},
                        {"incarnation", spec.incarnation}});
    }
    return {{"ok", true}, {"members", rows}};
}

json status(Node& node) {
    const auto s = node.status();
    json dials = json::array();
    for (const auto& d : s.dials) dials.push_back({{"endpoint", d.endpoint}, {"peer", d.peer}, {"welcomed", d.welcomed}});
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

json dispatch(Node& node, const inbox& box, const json& request) {
    const auto cmd = request.value("cmd", "");
    if (cmd == "members") return members(node);
    if (cmd == "status") return status(node);
    if (cmd == "metrics") {
        const auto s = node.status();
        auto counters = s.counters;
        counters["membership_size"] = s.member_count;
        return {{"ok", true}, {"counters", counters}};
    }
    if (cmd == "state") {
        json specs = json::array();
        for (const auto& spec : node.members_for_orchestration())
            specs.push_back({{"name", spec.name}, {"role", std::string(to_string(spec.role))}, {"home", spec.home_server},
                             {"router_endpoint", spec.router_endpoint}, {"pub_endpoint", spec.pub_endpoint},
                             {"incarnation", spec.incarnation}, {"tag", spec.tag}});
        return {{"ok", true}, {"state_bytes", node.get_local_state().size()}, {"specs", specs}};
    }
    if (cmd == "inbox") {
        json rows = json::array();
        for (const auto& m : box.snapshot())
            rows.push_back({{"from", m.from}, {"kind", m.kind}, {"payload", m.payload}, {"received_unix_ms", m.received_unix_ms}});
        return {{"ok", true}, {"messages", rows}};
    }
    if (cmd == "send") return from_send(node.send_message(request.at("node").get<std::string>(), request.value("payload", "")));
    if (cmd == "forward") {
        message_options options;
        options.ack = request.value("ack", false);
        return from_send(node.forward_message(request.at("node").get<std::string>(),
                                              request.value("handler", "inbox"), request.value("payload", ""), options));
    }
    if (cmd == "join") {
        const auto timeout = std::chrono::milliseconds(request.value("timeout_ms", 5000));
        return from_op(node.sync_join(request.at("endpoint").get<std::string>(), timeout));
    }
    if (cmd == "leave") return from_op(node.leave());
    if (cmd == "remove") return from_op(node.leave(request.at("node").get<std::string>()));
    if (cmd == "partition") {
        partition_result result;
        if (request.contains("groups")) {
            result = node.partition_groups(request.at("groups").get<std::vector<std::vector<std::string>>>());
        } else {
            result = node.inject_partition(request.value("origin", node.name()), request.value("ttl", 0u));
        }
        if (!result.ok()) return error(std::string(to_string(result.status)) + ": " + result.reason);
        return {{"ok", true}, {"ref", result.ref}};
    }
    if (cmd == "heal") return from_op(node.resolve_partition(request.at("ref").get<std::string>()));
    if (cmd == "partitions") {
        json rows = json::array();
        for (const auto& p : node.partitions()) rows.push_back({{"ref", p.ref}, {"peer", p.peer}});
        return {{"ok", true}, {"partitions", rows}};
    }
    return error("unknown command '" + cmd + "'");
}

}  // namespace

std::string handle_control_request(Node& node, const inbox& box, const std::string& request) {
    try {
        const auto parsed = json::parse(request);
        if (!parsed.is_object()) return to_text(error("a request is a JSON object"));
        return to_text(dispatch(node, box, parsed));
    } catch (const std::exception& e) {
        return to_text(error(std::string("bad request: ") + e.what()));
    }
}

}  // namespace zpartisan::daemon
