#include "cluster_bench.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <set>
#include <stdexcept>
#include <thread>
#include <zmq.hpp>

#include "control_batch.hpp"
#include "daemon_fleet.hpp"

namespace zpartisan::bench {

namespace {

using clock_type = std::chrono::steady_clock;
using nlohmann::json;
using namespace std::chrono_literals;

double seconds_since(clock_type::time_point since) {
    return std::chrono::duration<double>(clock_type::now() - since).count();
}

double round_to(double value, int decimals) {
    const double scale = std::pow(10.0, decimals);
    return std::round(value * scale) / scale;
}

double percentile(std::vector<double> values, double p) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
    return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

std::uint64_t counter_of(const json& metrics_answer, const std::string& name) {
    const auto& counters = metrics_answer.value("counters", json::object());
    return counters.contains(name) ? counters[name].get<std::uint64_t>() : 0;
}

struct member_view {
    std::size_t listed = 0, reachable = 0;
};

member_view view_of(const json& members_answer) {
    member_view view;
    for (const auto& member : members_answer.value("members", json::array())) {
        ++view.listed;
        if (member.value("reachable", false)) ++view.reachable;
    }
    return view;
}

// One cluster of real daemons, from the first start to the last kill.
class cluster_run {
public:
    cluster_run(const cluster_settings& settings, int processes, const std::string& work_dir)
        : _settings(settings),
          _processes(processes),
          _servers(std::max(1, processes / 20)),
          _fleet(settings.node_binary.empty() ? default_node_binary() : settings.node_binary, work_dir) {
        for (int i = 1; i <= _processes; ++i) {
            _names.push_back(i <= _servers ? "s" + std::to_string(i) : "c" + std::to_string(i - _servers));
            _controls.push_back("ipc://" + work_dir + "/" + _names.back() + ".ctl");
        }
    }

    json run() {
        json figure = {
            {"bench", "cluster"}, {"processes", _processes}, {"servers", _servers}, {"clients", _processes - _servers}};
        start_servers();
        start_clients();
        const auto converge = converge_time();
        figure["converged"] = converge.has_value();
        figure["converge_s"] = converge ? json(round_to(*converge, 2)) : json(nullptr);
        if (!converge) figure["not_converged"] = describe_stragglers();
        rest(figure);
        const auto exited = _fleet.exited();
        figure["exited"] = exited.size();
        figure["ok"] = converge.has_value() && figure["false_failures"] == 0 && exited.empty() &&
                       figure["converged_after_rest"] == _processes;
        return figure;
    }

private:
    std::vector<std::string> flags_for(const std::string& name, bool server, const std::string& joins) const {
        std::vector<std::string> flags{"--name",      name,    "--role",    server ? "server" : "client",
                                       "--cluster",   "bench", "--control", control_of(name),
                                       "--log-level", "warn"};
        if (!joins.empty()) flags.insert(flags.end(), {"--join", joins});
        flags.insert(flags.end(), _settings.node_flags.begin(), _settings.node_flags.end());
        return flags;
    }
    std::string control_of(const std::string& name) const {
        return _controls[static_cast<std::size_t>(std::find(_names.begin(), _names.end(), name) - _names.begin())];
    }

    void fail_on_exits() {
        const auto exited = _fleet.exited();
        if (exited.empty()) return;
        const auto& [name, status] = *exited.begin();
        throw std::runtime_error(std::to_string(exited.size()) + " daemons exited, " + name + " with status " +
                                 std::to_string(status) + " (its log: " + _fleet.work_dir() + "/" + name + ".log)");
    }

    // The router endpoints of the first `count` nodes, once each answers `status`.
    std::vector<std::string> router_endpoints(std::size_t count, std::chrono::seconds patience) {
        std::vector<std::string> endpoints(count);
        const std::vector<std::string> controls(_controls.begin(),
                                                _controls.begin() + static_cast<std::ptrdiff_t>(count));
        const auto deadline = clock_type::now() + patience;
        while (clock_type::now() < deadline) {
            fail_on_exits();
            (void)ask_all(_context, controls, {{"cmd", "status"}}, [&](std::size_t i, const json& answer) {
                endpoints[i] = answer.value("router_endpoint", "");
            });
            if (std::none_of(endpoints.begin(), endpoints.end(), [](const auto& e) { return e.empty(); }))
                return endpoints;
            std::this_thread::sleep_for(100ms);
        }
        throw std::runtime_error("servers did not answer on their control endpoints within " +
                                 std::to_string(patience.count()) + " s");
    }

    // As docker/compose.yml: s1 first, every other server joins s1.
    void start_servers() {
        _fleet.start(_names[0], flags_for(_names[0], true, ""));
        const auto first = router_endpoints(1, 30s).front();
        for (int i = 1; i < _servers; ++i) _fleet.start(_names[i], flags_for(_names[i], true, first));
        _server_endpoints = router_endpoints(static_cast<std::size_t>(_servers), 30s + std::chrono::seconds(_servers));
    }

    // All at once, the join storm: client i joins through servers i and i + 1 (mod servers),
    // spread as a compose file listing two servers per client would, given several.
    void start_clients() {
        for (int i = _servers; i < _processes; ++i) {
            const auto k = static_cast<std::size_t>(i - _servers);
            auto joins = _server_endpoints[k % _server_endpoints.size()];
            if (_server_endpoints.size() > 1) joins += "," + _server_endpoints[(k + 1) % _server_endpoints.size()];
            _fleet.start(_names[static_cast<std::size_t>(i)],
                         flags_for(_names[static_cast<std::size_t>(i)], false, joins));
        }
        _last_start = clock_type::now();
    }

    // Seconds from the last start until every node listed every member reachable, as seen by
    // sweeps of `members`: first the servers and a sample of clients (cheap to ask often), then
    // everyone, asking again only those not there yet. nullopt at the timeout.
    std::optional<double> converge_time() {
        std::set<std::size_t> pending;
        for (std::size_t i = 0; i < _names.size(); ++i) pending.insert(i);
        std::set<std::size_t> sample;
        const auto stride = std::max<std::size_t>(1, (_names.size() - static_cast<std::size_t>(_servers)) / 20);
        for (std::size_t i = 0; i < _names.size(); ++i)
            if (i < static_cast<std::size_t>(_servers) || (i - static_cast<std::size_t>(_servers)) % stride == 0)
                sample.insert(i);
        const auto deadline = _last_start + std::chrono::seconds(_settings.converge_timeout_seconds);
        auto sweep = [&](const std::set<std::size_t>& which) {
            const std::vector<std::size_t> asked(which.begin(), which.end());
            std::vector<std::string> controls;
            for (const auto i : asked) controls.push_back(_controls[i]);
            (void)ask_all(_context, controls, {{"cmd", "members"}}, [&](std::size_t k, const json& answer) {
                const auto view = view_of(answer);
                _last_view[asked[k]] = view;
                if (view.listed == _names.size() && view.reachable == _names.size()) pending.erase(asked[k]);
            });
        };
        for (bool everyone = false; clock_type::now() < deadline;) {
            fail_on_exits();
            std::set<std::size_t> asked;
            if (everyone) {
                asked = pending;
            } else {
                std::set_intersection(sample.begin(), sample.end(), pending.begin(), pending.end(),
                                      std::inserter(asked, asked.begin()));
                everyone = asked.empty();
                if (everyone) asked = pending;
            }
            sweep(asked);
            if (pending.empty()) return seconds_since(_last_start);
            std::this_thread::sleep_for(everyone ? 250ms : 100ms);
        }
        return std::nullopt;
    }

    json describe_stragglers() const {
        std::size_t silent = 0, short_of_members = 0, short_of_reachable = 0;
        for (std::size_t i = 0; i < _names.size(); ++i) {
            const auto it = _last_view.find(i);
            if (it == _last_view.end())
                ++silent;
            else if (it->second.listed < _names.size())
                ++short_of_members;
            else if (it->second.reachable < _names.size())
                ++short_of_reachable;
        }
        return {{"never_answered", silent},
                {"missing_members", short_of_members},
                {"members_unreachable", short_of_reachable}};
    }

    struct metrics_sweep {
        std::vector<json> counters;  // per node; null where it did not answer
        std::size_t answered = 0;
    };
    metrics_sweep sweep_metrics() {
        metrics_sweep sweep{std::vector<json>(_names.size()), 0};
        const auto answered = ask_all(_context, _controls, {{"cmd", "metrics"}},
                                      [&](std::size_t i, const json& answer) { sweep.counters[i] = answer; });
        sweep.answered = static_cast<std::size_t>(std::count(answered.begin(), answered.end(), true));
        return sweep;
    }

    std::vector<std::optional<process_sample>> sample_all() const {
        std::vector<std::optional<process_sample>> samples;
        for (const auto& name : _names) {
            const auto it = _fleet.running().find(name);
            samples.push_back(it == _fleet.running().end() ? std::nullopt : sample_process(it->second));
        }
        return samples;
    }

    void join_storm(const metrics_sweep& sweep, json& figure) const {
        std::vector<double> waits_ms;
        for (std::size_t i = static_cast<std::size_t>(_servers); i < _names.size(); ++i)
            if (!sweep.counters[i].is_null() && sweep.counters[i]["counters"].contains("first_welcome_ms"))
                waits_ms.push_back(static_cast<double>(counter_of(sweep.counters[i], "first_welcome_ms")));
        figure["clients_welcomed"] = waits_ms.size();
        figure["first_welcome_p50_ms"] = percentile(waits_ms, 50);
        figure["first_welcome_p90_ms"] = percentile(waits_ms, 90);
        figure["first_welcome_max_ms"] = percentile(waits_ms, 100);
    }

    // The rest window: nothing asked of the daemons between its two samples.
    void rest(json& figure) {
        const auto before = sweep_metrics();
        join_storm(before, figure);
        const auto cpu_before = sample_all();
        const auto rest_started = clock_type::now();
        std::this_thread::sleep_for(std::chrono::seconds(_settings.rest_seconds));
        const auto cpu_after = sample_all();
        const double rested_s = seconds_since(rest_started);
        const auto after = sweep_metrics();

        const double ticks_per_s = static_cast<double>(::sysconf(_SC_CLK_TCK));
        double cpu_s = 0, rss_kib = 0, server_rss_kib = 0;
        std::vector<double> threads;
        for (std::size_t i = 0; i < _names.size(); ++i) {
            if (!cpu_before[i] || !cpu_after[i]) continue;
            cpu_s += static_cast<double>(cpu_after[i]->cpu_ticks - cpu_before[i]->cpu_ticks) / ticks_per_s;
            rss_kib += static_cast<double>(cpu_after[i]->rss_kib);
            if (i < static_cast<std::size_t>(_servers)) server_rss_kib += static_cast<double>(cpu_after[i]->rss_kib);
            threads.push_back(cpu_after[i]->threads);
        }
        std::uint64_t false_failures = 0, failures_while_joining = 0;
        std::size_t nodes_seeing_failures = 0;
        for (std::size_t i = 0; i < _names.size(); ++i) {
            if (before.counters[i].is_null() || after.counters[i].is_null()) continue;
            const auto seen_before = counter_of(before.counters[i], "members_seen_down");
            const auto seen_after = counter_of(after.counters[i], "members_seen_down");
            failures_while_joining += seen_before;
            false_failures += seen_after - std::min(seen_after, seen_before);
            if (seen_after > seen_before) ++nodes_seeing_failures;
        }
        const auto n = static_cast<double>(_names.size());
        figure["rest_s"] = round_to(rested_s, 1);
        figure["idle_cpu_total_pct"] = round_to(100.0 * cpu_s / rested_s, 1);
        figure["idle_cpu_per_node_pct"] = round_to(100.0 * cpu_s / rested_s / n, 3);
        figure["rss_total_mb"] = round_to(rss_kib / 1024.0, 0);
        figure["rss_per_node_mb"] = round_to(rss_kib / 1024.0 / n, 2);
        figure["rss_per_server_mb"] = round_to(server_rss_kib / 1024.0 / _servers, 2);
        figure["threads_per_daemon"] = percentile(threads, 50);
        figure["threads_max"] = percentile(threads, 100);
        figure["metrics_answered"] = std::min(before.answered, after.answered);
        figure["false_failures"] = false_failures;
        figure["nodes_seeing_false_failures"] = nodes_seeing_failures;
        figure["downs_while_joining"] = failures_while_joining;

        std::size_t still_converged = 0;
        (void)ask_all(_context, _controls, {{"cmd", "members"}}, [&](std::size_t, const json& answer) {
            const auto view = view_of(answer);
            if (view.listed == _names.size() && view.reachable == _names.size()) ++still_converged;
        });
        figure["converged_after_rest"] = still_converged;
    }

    const cluster_settings& _settings;
    int _processes;
    int _servers;
    daemon_fleet _fleet;
    zmq::context_t _context{1};
    std::vector<std::string> _names, _controls, _server_endpoints;
    std::map<std::size_t, member_view> _last_view;
    clock_type::time_point _last_start;
};

}  // namespace

bool run_cluster(const cluster_settings& settings, const reporter& out) {
    const auto open_files = raise_open_file_limit();
    bool all_ok = true;
    for (const int processes : settings.processes) {
        std::string work_template = (std::filesystem::temp_directory_path() / "zpartisan-cluster-XXXXXX").string();
        if (::mkdtemp(work_template.data()) == nullptr) throw std::runtime_error("cannot make a temporary directory");
        json figure;
        try {
            cluster_run run(settings, processes, work_template);
            figure = run.run();
        } catch (const std::exception& e) {
            figure = {{"bench", "cluster"}, {"processes", processes}, {"ok", false}, {"error", e.what()}};
        }
        figure["open_files_limit"] = open_files;
        all_ok = all_ok && figure.value("ok", false);
        out.figure(figure);
        if (figure.value("ok", false))
            std::filesystem::remove_all(work_template);
        else
            std::cerr << "zpartisan-bench cluster: daemon logs kept in " << work_template << "\n";
    }
    return all_ok;
}

}  // namespace zpartisan::bench
