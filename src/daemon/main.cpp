// zpartisan-node: one cluster member as a daemon. Flags (or ZPARTISAN_* environment
// variables, for containers) configure it; a control endpoint serves zpartisan-ctl; the
// built-in handlers are `inbox` (last N messages) and `echo` (payload back to the sender's
// inbox). SIGTERM/SIGINT stop it cleanly (leaving first with --leave-on-stop) and it exits 0;
// SIGHUP re-reads the curve allow list (README, "Security").
// A node that stops by itself takes the daemon with it, so a supervisor or health check sees
// it: exit 3 when it left (zpartisan-ctl leave) or another node removed it, 4 when it stopped
// otherwise (a fatal transport error); 2 for bad flags or a node that cannot start.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <pthread.h>
#include <iostream>

#include "core/log_text.hpp"
#include "daemon/control_commands.hpp"
#include "daemon/control_endpoint_policy.hpp"
#include "daemon/curve_files.hpp"
#include "transport/curve_keys.hpp"
#include "daemon/heap_trim.hpp"
#include "daemon/inbox.hpp"
#include "daemon/membership_monitor.hpp"
#include "daemon/metrics_exporter.hpp"
#include "daemon/watch_stream.hpp"
#include "daemon/report_waits.hpp"
#include "control/control_channel.hpp"
#include "transport/zmq_context.hpp"
#include "zpartisan/node.hpp"
#include "zpartisan/version.hpp"

namespace {

std::atomic<bool> stop_requested{false};
void on_signal(int) { stop_requested = true; }
std::atomic<bool> reload_requested{false};
void on_hangup(int) { reload_requested = true; }

// SIGHUP: the allow list file is read again and replaces the node's; a file that does not
// read (a typo, a half-written copy) changes nothing and says why.
void reload_allow_list(zpartisan::Node& node, const std::string& path) {
    try {
        const auto keys = zpartisan::daemon::read_allow_list(path);
        const auto change = node.set_curve_allowed_keys(keys);
        spdlog::info(
            "allow list {} reloaded ({} keys): {}", path, keys.size(),
            zpartisan::transport::describe(zpartisan::transport::allow_list_change{change.added, change.removed}));
    } catch (const std::exception& e) {
        spdlog::error("allow list not reloaded, the previous one stays: {}", e.what());
    }
}

// Exit statuses (docs/control.md).
constexpr int exit_cannot_start = 2;  // bad flags, config or endpoint
constexpr int exit_departed = 3;      // the node left the cluster or was removed from it
constexpr int exit_failed = 4;        // the node stopped otherwise (a fatal transport error)

// How long a daemon whose node stopped still answers its control endpoint: the last answer
// (a leave's) goes out before the socket closes, and what is asked meanwhile hears
// "running": false.
constexpr auto last_answers = std::chrono::milliseconds(300);

// How often the control loop samples membership for watchers and metrics
// (daemon/membership_monitor.hpp) while someone listens; with no one, it sleeps until a
// request or a signal (delivered to this thread alone) and looks at whether its node stopped
// by itself (it left, was removed) and at the heap once a second.
constexpr auto sample_check = zpartisan::daemon::membership_monitor::sample_interval;
constexpr auto idle_check = std::chrono::milliseconds(1000);

// An acked forward that names no timeout waits this much longer than the node's ack timeout
// for its delivery report, which the node gives by then (docs/control.md).
constexpr auto report_margin = std::chrono::milliseconds(1000);

// Serves the control endpoint for at most max_wait: one request, answers that came meanwhile,
// and the waits for delivery reports whose deadline passed.
void serve_control(zpartisan::Node& node, const zpartisan::daemon::inbox& box, zpartisan::daemon::report_waits& waits,
                   zpartisan::daemon::watch_stream& watchers, zpartisan::control::control_server& control,
                   std::chrono::milliseconds max_wait) {
    using clock = zpartisan::daemon::report_waits::clock;
    auto wait = max_wait;
    if (const auto next_deadline = waits.expire(clock::now()))
        wait = std::clamp(std::chrono::ceil<std::chrono::milliseconds>(*next_deadline - clock::now()),
                          std::chrono::milliseconds(0), max_wait);
    auto request = control.next_request(wait);
    if (request && !watchers.take(*request, std::chrono::steady_clock::now())) {
        zpartisan::daemon::handle_control_request(
            node, box, waits, request->text,
            [&control, to = *request](const std::string& answer) { control.reply(to, answer); });
    }
    (void)waits.expire(clock::now());
}

}  // namespace

int main(int argc, char** argv) {
    using namespace zpartisan;
    CLI::App app{"zpartisan-node: a zpartisan cluster member (server or client)"};
    app.option_defaults()->always_capture_default();  // --help shows every default
    app.set_version_flag("--version", "zpartisan-node " + std::string(zpartisan::version()) + " (protocol " +
                                          std::to_string(zpartisan::protocol_version()) + ")");
    app.set_config("--config", "", "read flags from a TOML/INI file (key = value, e.g. name = \"s1\")");
    config cfg;
    std::string role_text = "server";
    std::vector<std::string> joins;
    std::string control_endpoint;
    std::string log_level = "info";
    std::string log_format = "text";
    bool leave_on_stop = false;
    std::size_t inbox_size = 100;
    bool no_heap_trim = false;
    bool control_allow_remote = false;
    std::size_t control_max_request_bytes = control::control_request_max_bytes;
    std::string curve_secret_file, curve_allow_file;
    std::string metrics_bind;

    app.add_option("--name", cfg.name, "unique node name (also its ZeroMQ routing id)")
        ->required()
        ->envname("ZPARTISAN_NAME");
    app.add_option("--role", role_text, "server or client")
        ->check(CLI::IsMember({"server", "client"}))
        ->envname("ZPARTISAN_ROLE");
    app.add_option("--cluster", cfg.cluster_name, "cluster name; nodes of other clusters are refused")
        ->envname("ZPARTISAN_CLUSTER");
    app.add_option("--bind", cfg.router_bind_endpoint, "ROUTER bind endpoint (tcp://host:port, * port = any)")
        ->envname("ZPARTISAN_BIND");
    app.add_option("--pub-bind", cfg.pub_bind_endpoint, "PUB bind endpoint (servers)")->envname("ZPARTISAN_PUB_BIND");
    app.add_option("--advertise", cfg.advertised_router_endpoint,
                   "ROUTER endpoint peers dial (required with a wildcard bind)")
        ->envname("ZPARTISAN_ADVERTISE");
    app.add_option("--advertise-pub", cfg.advertised_pub_endpoint, "PUB endpoint peers subscribe to")
        ->envname("ZPARTISAN_ADVERTISE_PUB");
    app.add_option("--join", joins, "endpoints to join at start (repeatable, or comma separated)")
        ->delimiter(',')
        ->envname("ZPARTISAN_JOIN");
    app.add_option("--data-dir", cfg.data_dir, "persist membership here; a restart rejoins by itself")
        ->envname("ZPARTISAN_DATA_DIR");
    app.add_option("--heartbeat-ms", cfg.heartbeat_interval_ms, "heartbeat interval")
        ->envname("ZPARTISAN_HEARTBEAT_MS");
    app.add_option("--missed-heartbeats", cfg.missed_heartbeats, "heartbeats missed in a row before a peer is failed")
        ->envname("ZPARTISAN_MISSED_HEARTBEATS");
    app.add_option("--gossip-ms", cfg.gossip_interval_ms, "anti-entropy interval")->envname("ZPARTISAN_GOSSIP_MS");
    app.add_option("--max-clients", cfg.max_clients, "servers: client capacity (0 = unlimited)")
        ->envname("ZPARTISAN_MAX_CLIENTS");
    app.add_option("--tag", cfg.tag, "clients: claim a slot reserved for this tag")->envname("ZPARTISAN_TAG");
    app.add_option("--control", control_endpoint,
                   "control endpoint for zpartisan-ctl (default ipc:///tmp/zpartisan-NAME.ctl)")
        ->envname("ZPARTISAN_CONTROL");
    app.add_flag("--control-allow-remote", control_allow_remote,
                 "serve --control on a non-loopback TCP address (anyone who reaches it controls the node)")
        ->envname("ZPARTISAN_CONTROL_ALLOW_REMOTE");
    app.add_option("--control-max-request-bytes", control_max_request_bytes,
                   "largest control request answered; larger ones get an error")
        ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 30))
        ->envname("ZPARTISAN_CONTROL_MAX_REQUEST_BYTES");
    // Limits (README "Limits").
    app.add_option("--max-message-bytes", cfg.max_message_bytes,
                   "largest frame sent or taken, advertised in the handshake")
        ->envname("ZPARTISAN_MAX_MESSAGE_BYTES");
    app.add_option("--max-peers", cfg.max_peers, "servers: other servers plus attached clients; more are refused")
        ->envname("ZPARTISAN_MAX_PEERS");
    app.add_option("--listen-backlog", cfg.listen_backlog,
                   "connections queued on each listening socket before they are accepted (ZMQ_BACKLOG)")
        ->envname("ZPARTISAN_LISTEN_BACKLOG");
    app.add_option("--duplicate-windows-max", cfg.duplicate_windows_max,
                   "duplicate windows kept for senders that are not members")
        ->envname("ZPARTISAN_DUPLICATE_WINDOWS_MAX");
    app.add_option("--duplicate-window-gaps-max", cfg.duplicate_window_gaps_max,
                   "lost ids one duplicate window waits for before giving the oldest up")
        ->envname("ZPARTISAN_DUPLICATE_WINDOW_GAPS_MAX");
    app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
        ->envname("ZPARTISAN_LOG_LEVEL");
    app.add_option("--log-format", log_format, "text or json")
        ->check(CLI::IsMember({"text", "json"}))
        ->envname("ZPARTISAN_LOG_FORMAT");
    app.add_flag("--leave-on-stop", leave_on_stop, "leave the cluster on SIGTERM/SIGINT instead of just stopping")
        ->envname("ZPARTISAN_LEAVE_ON_STOP");
    app.add_flag(
           "--inline-handlers", cfg.inline_handlers,
           "run message handlers on the reactor itself, one worker (handlers must return quickly and never block)")
        ->envname("ZPARTISAN_INLINE_HANDLERS");
    app.add_option("--inbox-size", inbox_size, "messages the inbox handler keeps")->envname("ZPARTISAN_INBOX_SIZE");
    app.add_flag("--no-heap-trim", no_heap_trim,
                 "keep the heap that closed connections freed instead of handing it back to the system")
        ->envname("ZPARTISAN_NO_HEAP_TRIM");

    app.add_option("--curve-secret-file", curve_secret_file,
                   "turn CurveZMQ on with this secret key file (zpartisan-ctl keygen); needs --curve-allow")
        ->envname("ZPARTISAN_CURVE_SECRET_FILE");
    app.add_option("--curve-secret", cfg.curve_secret_key,
                   "the secret key itself (Z85), for a secret handed over in the environment; prefer the file")
        ->envname("ZPARTISAN_CURVE_SECRET");
    app.add_option("--curve-allow", curve_allow_file,
                   "file of the public keys allowed in, one per line, # comments; re-read on SIGHUP")
        ->envname("ZPARTISAN_CURVE_ALLOW");
    app.add_option("--metrics-bind", metrics_bind,
                   "serve Prometheus metrics at http://HOST:PORT/metrics (e.g. 0.0.0.0:9464; port 0 = any free one); "
                   "off when empty")
        ->envname("ZPARTISAN_METRICS_BIND");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::cerr << "zpartisan-node: " << e.what() << "\n";
        return exit_cannot_start;
    }

    spdlog::set_level(spdlog::level::from_str(log_level));
    if (log_format == "json") spdlog::set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","message":"%v"})");
    cfg.role = *parse_role(role_text);
    try {
        if (!curve_secret_file.empty() && !cfg.curve_secret_key.empty())
            throw std::runtime_error("give the secret key once: --curve-secret-file or --curve-secret");
        if (!curve_secret_file.empty()) {
            std::string warning;
            cfg.curve_secret_key = daemon::read_secret_key_file(curve_secret_file, warning);
            if (!warning.empty()) spdlog::warn("{}", warning);
        }
        const bool curve = !cfg.curve_secret_key.empty();
        if (curve && curve_allow_file.empty())
            throw std::runtime_error("curve is on: --curve-allow names the file of peers' public keys");
        if (!curve && !curve_allow_file.empty())
            throw std::runtime_error("--curve-allow needs curve on (--curve-secret-file or --curve-secret)");
        if (curve) cfg.curve_allowed_keys = daemon::read_allow_list(curve_allow_file);
    } catch (const std::exception& e) {
        std::cerr << "zpartisan-node: " << e.what() << "\n";
        return exit_cannot_start;
    }
    if (control_endpoint.empty()) control_endpoint = "ipc:///tmp/zpartisan-" + cfg.name + ".ctl";
    if (const auto refused = daemon::control_endpoint_refusal(control_endpoint, control_allow_remote)) {
        std::cerr << "zpartisan-node: " << *refused << "\n";
        return exit_cannot_start;
    }

    // Declared before the node, which must go first: its delivery reports answer through them.
    std::unique_ptr<control::control_server> control;
    daemon::report_waits waits(std::chrono::milliseconds(cfg.ack_timeout_ms) + report_margin);
    std::unique_ptr<Node> node;
    std::unique_ptr<daemon::metrics_exporter> metrics;  // scrapes the node: goes before it
    daemon::use_few_malloc_arenas();
    // One process, one node: the control endpoint shares the node's ZeroMQ context.
    transport::share_one_context();
    // The threads made below never take the stop and reload signals: they reach this thread,
    // whose wait for a control request they cut short.
    sigset_t handled, previous;
    sigemptyset(&handled);
    for (const int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&handled, sig);
    pthread_sigmask(SIG_BLOCK, &handled, &previous);
    try {
        node = std::make_unique<Node>(cfg);
        control = std::make_unique<control::control_server>(control_endpoint, control_max_request_bytes);
        if (!metrics_bind.empty()) metrics = std::make_unique<daemon::metrics_exporter>(*node, metrics_bind);
    } catch (const std::exception& e) {
        std::cerr << "zpartisan-node: " << e.what() << "\n";
        return exit_cannot_start;
    }
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);

    daemon::inbox box(inbox_size);
    node->register_handler("inbox", [&box](const inbound_message& m) { box.store(m); });
    Node* self = node.get();
    node->register_handler(
        "echo", [self](const inbound_message& m) { (void)self->forward_message(m.from, "inbox", m.payload); });
    for (const auto& endpoint : joins) {
        const auto result = node->join(endpoint);
        if (!result.ok())
            spdlog::warn("join {}: {} {}", endpoint, to_string(result.status), core::log_text(result.reason, 256));
    }

    std::signal(SIGTERM, on_signal);
    std::signal(SIGINT, on_signal);
    std::signal(SIGHUP, on_hangup);
    if (!cfg.curve_secret_key.empty())
        spdlog::info("{} curve on: public key {}, {} keys allowed from {}", cfg.name, node->curve_public_key(),
                     cfg.curve_allowed_keys.size(), curve_allow_file);
    spdlog::info("{} ready: router {} control {}", cfg.name, node->router_endpoint(), control->endpoint());
    if (metrics)
        spdlog::info("{} metrics: http://{}:{}/metrics", cfg.name, metrics_bind.substr(0, metrics_bind.rfind(':')),
                     metrics->port());
    daemon::watch_stream watchers(
        [&control](const control::control_message& to, const std::string& text) { control->reply(to, text); });
    daemon::membership_monitor monitor(*node, watchers, metrics.get());
    // Checked between control requests: this thread has nothing else to do, and a trim here
    // holds up no message (daemon/heap_trim.hpp says why and when).
    daemon::heap_trimmer trimmer;
    while (!stop_requested && node->running()) {
        serve_control(*node, box, waits, watchers, *control, monitor.listening() ? sample_check : idle_check);
        monitor.poll(std::chrono::steady_clock::now());
        if (reload_requested.exchange(false)) {
            if (curve_allow_file.empty())
                spdlog::info("SIGHUP: no allow list to reload (curve is off)");
            else
                reload_allow_list(*node, curve_allow_file);
        }
        if (no_heap_trim) continue;
        if (const auto trim = trimmer.poll(std::chrono::steady_clock::now()))
            spdlog::debug("heap trimmed ({} back to the system): live {} KiB, {} KiB at its peak, in {} us",
                          trim->released ? "memory went" : "nothing went", trim->live_bytes / 1024,
                          trim->peak_live_bytes / 1024, trim->took.count());
    }
    if (!node->running()) {
        // Left, removed or failed: not a process to keep up with its node gone.
        const bool departed = !node->status().running;  // the peer service stopped itself
        const int status = departed ? exit_departed : exit_failed;
        const auto why = core::log_text(node->stopped_reason(), 256);  // may name peers
        if (departed) {
            spdlog::warn("{} stopped: {}; exiting with status {}", cfg.name, why, status);
        } else {
            spdlog::error("{} stopped: {}; exiting with status {}", cfg.name, why, status);
        }
        const auto until = std::chrono::steady_clock::now() + last_answers;
        for (auto now = std::chrono::steady_clock::now(); now < until && !stop_requested;
             now = std::chrono::steady_clock::now()) {
            monitor.poll(now);  // watchers hear that it stopped
            serve_control(*node, box, waits, watchers, *control,
                          std::chrono::ceil<std::chrono::milliseconds>(until - now));
        }
        metrics.reset();
        node.reset();      // its last delivery reports ("stopped") answer their forwards
        control->flush();  // and those answers leave
        control.reset();
        return status;
    }
    if (leave_on_stop) {
        const auto result = node->leave();
        spdlog::info("left the cluster: {}", to_string(result.status));
    }
    spdlog::info("stopping");
    metrics.reset();
    node.reset();
    control->flush();
    return 0;
}
