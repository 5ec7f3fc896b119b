// zpartisan-ctl: talks to a zpartisan-node's control endpoint. Human tables by default,
// --json for scripts. Exit 0 when the command worked, 1 when the node said no (a send refused,
// an acked forward not delivered), 2 when the node could not be reached or the command line
// was wrong, 3 when `status` found the node not running (it left, was removed or stopped): a
// health check fails either way. `health` exits 0 only for a running, settled node (1 with the
// reason otherwise); `health --live` only asks that the daemon answers. `watch` streams events.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iomanip>
#include <iostream>

#include "cli/keygen.hpp"
#include "cli/member_spec_arguments.hpp"
#include "cli/payload_input.hpp"
#include "cli/watch_command.hpp"
#include "control/control_channel.hpp"
#include "zpartisan/config.hpp"
#include "zpartisan/version.hpp"

namespace {

using nlohmann::json;

// An acked forward waits for its report this much past the node's ack timeout (the daemon's
// default too, docs/control.md), and for the node's answer this much past that.
constexpr int report_margin_ms = 1000;
constexpr int answer_margin_ms = 2000;

// Bytes that are not UTF-8 (from arguments or a node's answer) become U+FFFD, never an exception.
std::string text_of(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string cell(const json& value) {
    if (value.is_string()) return value.get<std::string>();
    return text_of(value);
}

// A table of rows (objects) with the given columns.
void print_table(const json& rows, const std::vector<std::string>& columns) {
    std::vector<std::size_t> width;
    for (const auto& c : columns) width.push_back(c.size());
    for (const auto& row : rows)
        for (std::size_t i = 0; i < columns.size(); ++i)
            width[i] = std::max(width[i], cell(row.value(columns[i], json(""))).size());
    for (std::size_t i = 0; i < columns.size(); ++i)
        std::cout << std::left << std::setw(static_cast<int>(width[i] + 2)) << columns[i];
    std::cout << "\n";
    for (const auto& row : rows) {
        for (std::size_t i = 0; i < columns.size(); ++i)
            std::cout << std::left << std::setw(static_cast<int>(width[i] + 2))
                      << cell(row.value(columns[i], json("")));
        std::cout << "\n";
    }
}

void print_human(const std::string& command, const json& answer) {
    if (command == "members") {
        print_table(answer["members"],
                    {"name", "role", "home", "reachable", "last_heard_ms_ago", "detected_by", "router_endpoint"});
    } else if (command == "inbox") {
        print_table(answer["messages"], {"from", "kind", "payload"});
    } else if (command == "partitions") {
        print_table(answer["partitions"], {"ref", "peer"});
    } else if (command == "metrics") {
        for (const auto& [key, value] : answer["counters"].items())
            std::cout << std::left << std::setw(40) << key << value << "\n";
    } else if (command == "health") {
        std::cout << (answer.value("live", false) ? "alive" : "healthy") << "\n";
    } else if (command == "partition") {
        std::cout << answer["ref"].get<std::string>() << "\n";
    } else if (command == "send" || command == "forward") {
        std::cout << (answer.value("delivered", false) ? "delivered" : cell(answer.value("status", json("ok"))))
                  << "\n";
    } else {
        for (const auto& [key, value] : answer.items())
            if (key != "ok") std::cout << std::left << std::setw(20) << key << cell(value) << "\n";
        if (answer.size() == 1) std::cout << "ok\n";
    }
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"zpartisan-ctl: ask a zpartisan-node"};
    std::string control;
    bool as_json = false;
    int timeout_ms = 5000;
    app.set_version_flag("--version", "zpartisan-ctl " + std::string(zpartisan::version()) + " (protocol " +
                                          std::to_string(zpartisan::protocol_version()) + ")");
    app.add_option("-c,--control", control, "the node's control endpoint (every command but keygen)")
        ->envname("ZPARTISAN_CONTROL");
    app.add_flag("--json", as_json, "print the node's JSON answer");
    auto* timeout_option =
        app.add_option("--timeout-ms", timeout_ms,
                       "how long to wait for the node; for forward --ack, for its delivery report (default: the "
                       "node's ack timeout + " +
                           std::to_string(report_margin_ms) + " ms)")
            ->check(CLI::Range(1, 600'000));
    app.require_subcommand(1);
    app.fallthrough();  // -c, --json and --timeout-ms may follow the subcommand too

    json request;
    std::string node, handler = "inbox", endpoint, ref, origin, specs_file;
    zpartisan::cli::payload_input payload;
    unsigned ttl = 0;
    bool ack = false;
    bool live = false;
    std::vector<std::string> groups, specs;
    const auto add_payload_options = [&payload](CLI::App* command) {
        command->add_option("payload", payload.argument, "the message (or --payload-file)");
        command->add_option("--payload-file", payload.file, "send this file's bytes exactly ('-': standard input)");
        command->add_flag("--base64", payload.base64, "the payload (argument or file) is base64 of the bytes to send");
    };

    for (const auto* simple : {"members", "status", "state", "inbox", "leave", "partitions", "metrics"})
        app.add_subcommand(simple, std::string("show or do: ") + simple);
    auto* send = app.add_subcommand("send", "send_message: to a node's inbox; prints the send status");
    send->add_option("node", node)->required();
    add_payload_options(send);
    auto* forward = app.add_subcommand(
        "forward",
        "forward_message: to a handler on a node; prints the send status, or with --ack the delivery report");
    forward->add_option("node", node)->required();
    forward->add_option("handler", handler)->required();
    add_payload_options(forward);
    forward->add_flag("--ack", ack, "at-least-once: wait for the delivery report, print delivered or fail with why");
    auto* health = app.add_subcommand(
        "health", "exit 0 only when the node runs and is settled (a readiness probe); else 1 and the reason");
    health->add_flag("--live", live, "only that the daemon answers (a liveness probe)");
    app.add_subcommand("watch",
                       "print membership and liveness events as they happen, until Ctrl-C (--json: JSON lines)");
    auto* join = app.add_subcommand("join", "join a cluster through an endpoint");
    join->add_option("endpoint", endpoint)->required();
    auto* remove = app.add_subcommand("remove", "remove another node from the cluster");
    remove->add_option("node", node)->required();
    auto* partition =
        app.add_subcommand("partition", "inject a partition: --origin NAME [--ttl N], or --group a,b --group c,d");
    partition->add_option("--origin", origin, "the node that cuts itself off (default: the asked node)");
    partition->add_option("--ttl", ttl, "spread the cut this many hops");
    partition->add_option("--group", groups, "one group of node names, comma separated (repeat)");
    auto* heal = app.add_subcommand("heal", "resolve a partition by its reference");
    heal->add_option("ref", ref)->required();
    std::string key_path, key_comment;
    bool key_overwrite = false;
    auto* keygen = app.add_subcommand(
        "keygen", "write a CurveZMQ keypair: PATH (secret, mode 0600) and PATH.pub (public); prints the public key");
    keygen->add_option("path", key_path, "where the secret key goes")->required();
    keygen->add_option("--comment", key_comment, "a note kept with the keys (e.g. the node's name)");
    keygen->add_flag("--force", key_overwrite, "replace files that exist");
    auto* update = app.add_subcommand(
        "update-members",
        "update_members: make membership exactly these specs (fields left out keep a member's values)");
    update->add_option("spec", specs, "name=N[,role=R,router_endpoint=E,pub_endpoint=E,home=S,incarnation=I,tag=T]");
    update->add_option("--specs-file", specs_file,
                       "a JSON array of specs, or `state --json`'s answer ('-': standard input)");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::cerr << "zpartisan-ctl: " << e.what() << "\n";
        return 2;
    }
    const auto command = app.get_subcommands().front()->get_name();
    if (command == "keygen") {
        try {
            std::cout << zpartisan::cli::write_keypair(key_path, key_comment, key_overwrite) << "\n";
            return 0;
        } catch (const std::exception& e) {
            std::cerr << "zpartisan-ctl: " << e.what() << "\n";
            return 2;
        }
    }
    if (control.empty()) {
        std::cerr << "zpartisan-ctl: --control (or ZPARTISAN_CONTROL) is required\n";
        return 2;
    }
    if (command == "watch") return zpartisan::cli::watch(control, as_json);
    if (command == "health" && live) request["live"] = true;
    request["cmd"] = command == "update-members" ? "update_members" : command;
    auto answer_wait = std::chrono::milliseconds(timeout_ms);
    try {
        if (command == "send" || command == "forward" || command == "remove") request["node"] = node;
        if (command == "send" || command == "forward") zpartisan::cli::put_payload(request, payload);
        if (command == "update-members") {
            json list = specs_file.empty() ? json::array() : zpartisan::cli::specs_from_file(specs_file);
            for (const auto& spec : specs) list.push_back(zpartisan::cli::spec_from_argument(spec));
            if (list.empty()) throw std::runtime_error("update-members needs at least one spec");
            request["specs"] = list;
        }
    } catch (const std::exception& e) {
        std::cerr << "zpartisan-ctl: " << e.what() << "\n";
        return 2;
    }
    if (command == "forward") {
        request["handler"] = handler;
        request["ack"] = ack;
        if (ack) {
            // The node answers once the report is in, or at the wait's end: this waits a little
            // longer, so "no answer" still means the node did not answer at all.
            auto report_wait = std::chrono::milliseconds(zpartisan::config{}.ack_timeout_ms + report_margin_ms);
            if (timeout_option->count() > 0) {
                report_wait = std::chrono::milliseconds(timeout_ms);
                request["timeout_ms"] = timeout_ms;
            }
            answer_wait = report_wait + std::chrono::milliseconds(answer_margin_ms);
        }
    }
    if (command == "join") request["endpoint"] = endpoint;
    if (command == "heal") request["ref"] = ref;
    if (command == "partition") {
        if (!groups.empty()) {
            json list = json::array();
            for (const auto& g : groups) {
                json names = json::array();
                std::stringstream in(g);
                for (std::string name; std::getline(in, name, ',');) names.push_back(name);
                list.push_back(names);
            }
            request["groups"] = list;
        } else {
            if (!origin.empty()) request["origin"] = origin;
            request["ttl"] = ttl;
            // The node answers once the origin holds the cut, or gives it up at its ack timeout.
            if (timeout_option->count() == 0)
                answer_wait =
                    std::chrono::milliseconds(zpartisan::config{}.ack_timeout_ms + report_margin_ms + answer_margin_ms);
        }
    }

    const auto request_text = text_of(request);
    if (request_text.size() > zpartisan::control::control_request_max_bytes) {
        std::cerr << "zpartisan-ctl: the request is " << request_text.size()
                  << " bytes, over the control endpoint's limit of " << zpartisan::control::control_request_max_bytes
                  << "\n";
        return 2;
    }
    const auto answer_text = zpartisan::control::ask(control, request_text, answer_wait);
    if (!answer_text) {
        std::cerr << "zpartisan-ctl: no answer from " << control << " within " << answer_wait.count() << " ms\n";
        return 2;
    }
    json answer;
    try {
        answer = json::parse(*answer_text);
    } catch (const std::exception&) {
        std::cerr << "zpartisan-ctl: the node answered something that is not JSON\n";
        return 2;
    }
    if (as_json) {
        std::cout << answer.dump() << "\n";
    } else if (answer.value("ok", false)) {
        print_human(command, answer);
    } else {
        std::cerr << "zpartisan-ctl: " << answer.value("error", "failed") << "\n";
    }
    if (!answer.value("ok", false)) return 1;
    if (command == "status" && !answer.value("running", true)) {
        const auto reason = answer.value("stopped_reason", std::string());
        std::cerr << "zpartisan-ctl: " << cell(answer.value("name", json(""))) << " is not running"
                  << (reason.empty() ? "" : ": " + reason) << "\n";
        return 3;
    }
    return 0;
}
