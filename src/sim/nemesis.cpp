#include "sim/nemesis.hpp"

#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <tuple>

#include "sim/order_checker.hpp"

namespace zpartisan::sim {

namespace {

constexpr const char* handler_name = "app";
// The load uses two channels and three lanes (partition keys), so that order is checked per
// channel and key, not only per pair of nodes.
constexpr std::array<const char*, 2> channels{"default", "bulk"};
constexpr std::uint32_t lanes = 3;

// A flow the load keeps sending on under the faults, so that order has something to hold.
struct steady_flow {
    std::string from;
    std::string to;
    std::string channel;
    std::uint32_t lane = 0;
};

// One acked message: who sent it to whom, and what became of it.
struct tracked {
    std::string from;
    std::string to;
    std::uint64_t from_incarnation = 0;
    std::uint64_t report_id = 0;
};

class run {
public:
    explicit run(const scenario& s) : _s(s), _net(s.seed, {0, 0, 0, 0, true}, s.timing), _rng(s.seed ^ 0x5deece66dULL) {
        _net.register_handler_everywhere(handler_name);
        _net.set_ticks_only_when_due(s.ticks_only_when_due, true);
    }

    outcome play() {
        if (!form_cluster()) return std::move(_out);
        choose_steady_flows();
        std::multimap<std::uint64_t, const fault*> starts;
        for (const auto& f : _s.faults) starts.emplace(f.at_round, &f);
        std::multimap<std::uint64_t, std::function<void()>> ends;
        for (std::uint64_t round = 0; round < _s.fault_rounds; ++round) {
            for (auto [it, last] = starts.equal_range(round); it != last; ++it) {
                _active = ends.size() + 1;
                if (auto end = begin(*it->second))
                    ends.emplace(round + std::max<std::uint64_t>(it->second->rounds, 1), std::move(end));
            }
            for (auto [it, last] = ends.equal_range(round); it != last; ++it) it->second();
            ends.erase(round);
            if (round % 7 == 0) send_traffic();
            _net.run_rounds(1);
        }
        for (auto& [round, end] : ends) end();  // everything heals
        heal_everything();
        settle();
        if (_out.ok()) {
            check_every_pair_delivers();  // lets an ack timeout pass: every request is answered by then
            _reports_due = true;
            check_partition_answers();
        }
        check_acked_traffic();
        for (auto& v : _order.violations(_net.deliveries())) violation(std::move(v));
        if (!_out.ok() && _out.final_state.empty()) _out.final_state = dump();
        _out.trace_hash = _net.trace_hash();
        _out.ticks_skipped = _net.ticks_skipped();
        _out.skipped_ticks_with_output = _net.skipped_ticks_with_output();
        return std::move(_out);
    }

private:
    void violation(std::string text) { _out.violations.push_back(std::move(text)); }

    [[nodiscard]] bool is_ghost(const std::string& name) const { return _ghosts.contains(name); }

    // The nodes whose process and node run, and that are meant to be members.
    [[nodiscard]] std::vector<std::string> live_members() const {
        std::vector<std::string> out;
        for (const auto& name : _net.names())
            if (!is_ghost(name) && _net.live(name)) out.push_back(name);
        return out;
    }

    [[nodiscard]] std::vector<std::string> live_servers() const {
        std::vector<std::string> out;
        for (const auto& name : live_members())
            if (_net.node(name).self().role == role::server) out.push_back(name);
        return out;
    }

    template <class T>
    const T& pick(const std::vector<T>& from) {
        return from[std::uniform_int_distribution<std::size_t>(0, from.size() - 1)(_rng)];
    }

    bool form_cluster() {
        for (int i = 1; i <= _s.servers; ++i) _net.add(server_name(i), role::server);
        for (int i = 1; i <= _s.clients; ++i) _net.add(client_name(i), role::client);
        for (int i = 2; i <= _s.servers; ++i) _net.node(server_name(i)).join(_net.router_of("s1"), _net.now_ms());
        _net.run_rounds(5);
        for (int i = 1; i <= _s.clients; ++i) {
            // The first few take one server each (ci joins si), so every server has a client;
            // of the rest, a quarter join through a client that joined before them.
            const bool via_client = i > _s.servers && _rng() % 4 == 0;
            if (i <= _s.servers) {
                _net.node(client_name(i)).join(_net.router_of(server_name(i)), _net.now_ms());
                continue;
            }
            const auto target =
                via_client ? client_name(1 + static_cast<int>(_rng() % static_cast<std::uint64_t>(i - 1)))
                           : server_name(1 + static_cast<int>(_rng() % static_cast<std::uint64_t>(_s.servers)));
            _net.node(client_name(i)).join(_net.router_of(target), _net.now_ms());
        }
        auto everyone = _net.names();
        std::sort(everyone.begin(), everyone.end());
        if (_net.run_until_converged(everyone, 3000, 10) < 0) {
            violation("the cluster did not form before any fault");
            return false;
        }
        return true;
    }

    // A few flows (sender, receiver, channel, lane) carry half the load, bursts of one to three
    // messages each time, acked or plain: each sees many messages across the faults.
    void choose_steady_flows() {
        auto members = live_members();
        for (int i = 0; i < 4 && members.size() >= 2; ++i) {
            steady_flow f{pick(members), pick(members), channels[_rng() % channels.size()],
                          static_cast<std::uint32_t>(_rng() % lanes)};
            if (f.from != f.to) _steady.push_back(std::move(f));
        }
    }

    void send_traffic() {
        if (!_steady.empty() && _rng() % 2 == 0) {
            const auto& f = pick(_steady);
            if (!_net.live(f.from) || !_net.live(f.to)) return;
            for (auto burst = 1 + _rng() % 3; burst > 0; --burst)
                send_one(f.from, f.to, f.channel, f.lane, _rng() % 2 == 0);
            return;
        }
        const auto members = live_members();
        if (members.size() < 2) return;
        const auto& from = pick(members);
        const auto& to = pick(members);
        if (from == to) return;
        const std::string channel = channels[_rng() % channels.size()];
        send_one(from, to, channel, static_cast<std::uint32_t>(_rng() % lanes), _rng() % 2 == 0);
    }

    void send_one(const std::string& from, const std::string& to, const std::string& channel, std::uint32_t lane,
                  bool ack) {
        const auto number = std::to_string(++_messages_sent);
        if (ack) {
            send_acked(from, to, "t" + number, channel, lane);
            return;
        }
        // A plain message: it may be lost, but never crosses a partition in force (checked at
        // its delivery with the acked ones) and never overtakes one sent before it.
        core::outgoing out;
        out.destination = to;
        out.handler = handler_name;
        out.channel = channel;
        out.lane = lane;
        out.payload = "p" + number;
        const auto payload = out.payload;
        if (_net.node(from).send_app(std::move(out), _net.now_ms()) == core::route_status::ok)
            _order.sent(payload, false);
    }

    void send_acked(const std::string& from, const std::string& to, const std::string& payload,
                    const std::string& channel = channels[0], std::uint32_t lane = 0) {
        core::outgoing out;
        out.destination = to;
        out.handler = handler_name;
        out.channel = channel;
        out.lane = lane;
        out.ack = true;
        out.payload = payload;
        std::uint64_t id = 0;
        auto& node = _net.node(from);
        const auto status = node.send_app(std::move(out), _net.now_ms(), &id);
        if (status != core::route_status::ok || id == 0) return;  // refused at once: nothing to track
        _sent[payload] = tracked{from, to, node.self().incarnation, id};
        _order.sent(payload, true);
    }

    // Starts a fault; returns what ends it (empty when the fault has no end of its own).
    std::function<void()> begin(const fault& f) {
        const bool ghost = f.kind == fault_kind::ghost_member;
        if ((!ghost && !_net.has(f.node)) || (!f.other.empty() && !_net.has(f.other))) return {};
        const auto now = _net.now_ms();
        switch (f.kind) {
            case fault_kind::crash:
                // A node that left or was removed has exited already (its daemon does).
                if (_net.crashed(f.node) || !_net.node(f.node).running()) return {};
                ++_out.faults_injected;
                _net.crash(f.node);
                return [this, name = f.node] {
                    if (_net.crashed(name)) _net.restart(name);
                };
            case fault_kind::pause:
                if (_net.paused(f.node) || _net.crashed(f.node)) return {};
                ++_out.faults_injected;
                _net.pause(f.node);
                return [this, name = f.node] { _net.resume(name); };
            case fault_kind::leave:
                if (!_net.live(f.node) || last_server(f.node)) return {};
                ++_out.faults_injected;
                _net.node(f.node).leave(now);
                if (f.rounds == 0) return {};  // gone for good
                return [this, name = f.node] { join_again(name); };
            case fault_kind::remove:
                if (!_net.live(f.other) || f.node == f.other || last_server(f.node)) return {};
                if (!_net.node(f.other).remove_member(f.node, now)) return {};
                ++_out.faults_injected;
                _removed.insert(f.node);
                if (f.rounds == 0) return {};  // gone for good
                return [this, name = f.node] { join_again(name); };
            case fault_kind::ghost_member: {
                if (!_net.live(f.other) || _net.has(f.node)) return {};
                ++_out.faults_injected;
                // A running client that was never told to join, named to the cluster.
                _net.add(f.node, role::client);
                _ghosts.insert(f.node);
                auto specs = _net.node(f.other).membership().specs();
                specs.push_back(_net.node(f.node).self());
                _net.node(f.other).update_members(specs, now);
                return {};
            }
            case fault_kind::cut_link:
                ++_out.faults_injected;
                _net.partition({f.node}, {f.other});
                return [this, a = f.node, b = f.other] {
                    _net.restore_one_way(a, b);
                    _net.restore_one_way(b, a);
                };
            case fault_kind::cut_one_way:
                ++_out.faults_injected;
                _net.cut_one_way(f.node, f.other);
                return [this, a = f.node, b = f.other] { _net.restore_one_way(a, b); };
            case fault_kind::partition: {
                if (!_net.live(f.other)) return {};
                const auto origin_incarnation = _net.node(f.node).self().incarnation;
                auto ref = _net.node(f.other).inject_partition(f.node, f.ttl, now);
                if (!ref) return {};
                ++_out.faults_injected;
                _partition_refs.emplace_back(*ref, f.other);
                // An answer `applied` promises that the origin holds the cut; in a quiet,
                // converged cluster the answer must come, and be that (docs/protocol.md §6).
                const bool alone = _active == 1 && quiet_violations().empty();
                const auto begun = _out.faults_injected;
                const auto since_round = _net.round();
                return [this, ref = *ref, at = f.other, origin = f.node, origin_incarnation, alone, begun,
                        since_round] {
                    const auto* answer = answer_to(ref, at);
                    const bool origin_same_life =
                        _net.live(origin) && _net.node(origin).self().incarnation == origin_incarnation;
                    if (answer && answer->what.applied && origin_same_life) {
                        const auto held = _net.node(origin).partitions();
                        if (std::none_of(held.begin(), held.end(),
                                         [&](const core::partition_entry& p) { return p.ref == ref; }))
                            violation("partition " + ref + " made at " + at + " was answered applied, but its origin " +
                                      origin + " does not hold it");
                    }
                    const bool had_time = _net.round() >= since_round + 100;
                    if (alone && had_time && begun == _out.faults_injected && origin_same_life &&
                        (!answer || !answer->what.applied))
                        violation("partition " + ref + " made at " + at + " in a quiet cluster: " +
                                  (answer ? "given up: " + answer->what.reason : std::string("no answer within 1 s")));
                    resolve(ref, at);
                };
            }
            case fault_kind::lossy_network: {
                ++_out.faults_injected;
                std::uniform_real_distribution<> share(0.1, 0.3);
                _net.set_faults({share(_rng), share(_rng) / 3, static_cast<std::uint32_t>(1 + _rng() % 10), 0, true});
                return [this] { _net.set_faults({0, 0, 0, 0, true}); };
            }
        }
        return {};
    }

    // A cluster keeps one server at least: with none, no client could have a home.
    [[nodiscard]] bool last_server(const std::string& name) const {
        const auto servers = live_servers();
        return servers.size() == 1 && servers.front() == name;
    }

    void join_again(const std::string& name) {
        if (_net.live(name) || _net.crashed(name)) return;  // it never went, or crashed since
        if (_net.node(name).running()) return;
        // Through a server the operator is not removing: one that has not heard of its own
        // removal yet still runs, but its process is about to go, and a joiner knows no other.
        std::vector<std::string> servers;
        for (const auto& server : live_servers())
            if (!_removed.contains(server)) servers.push_back(server);
        if (servers.empty()) return;
        _removed.erase(name);
        _net.rejoin(name, _net.router_of(pick(servers)));
    }

    // The answer the requester (still in the life that asked) heard for ref, if any.
    [[nodiscard]] const partition_answer* answer_to(const std::string& ref, const std::string& requester) const {
        for (const auto& answer : _net.partition_answers())
            if (answer.what.ref == ref && answer.at == requester && answer.at_incarnation == made_in_life(ref))
                return &answer;
        return nullptr;
    }

    // A reference reads "name/incarnation#count": the life of its requester that made it.
    [[nodiscard]] static std::uint64_t made_in_life(const std::string& ref) {
        const auto slash = ref.rfind('/'), hash = ref.rfind('#');
        return std::stoull(ref.substr(slash + 1, hash - slash - 1));
    }

    // Results are never silent: every reference handed out is answered once, applied or
    // given up, while its requester lives (docs/protocol.md §6).
    void check_partition_answers() {
        for (const auto& [ref, requester] : _partition_refs) {
            if (!_net.live(requester) || _net.node(requester).self().incarnation != made_in_life(ref)) continue;
            const auto answers =
                std::count_if(_net.partition_answers().begin(), _net.partition_answers().end(),
                              [&](const partition_answer& a) { return a.what.ref == ref && a.at == requester; });
            if (answers != 1)
                violation("partition " + ref + " made at " + requester + " was answered " + std::to_string(answers) +
                          " times");
        }
    }

    // The operator heals where the partition was made; if that node is gone (a new process
    // knows nothing of it), on every live server: a heal floods from wherever it is asked.
    void resolve(const std::string& ref, const std::string& made_at) {
        if (_net.live(made_at) && _net.node(made_at).self().incarnation == 1 &&
            _net.node(made_at).resolve_partition(ref))
            return;
        for (const auto& name : live_servers()) (void)_net.node(name).resolve_partition(ref);
    }

    void heal_everything() {
        _net.heal();
        _net.set_faults({0, 0, 0, 0, true});
        for (const auto& name : _net.names()) {
            if (_net.crashed(name)) _net.restart(name);
            if (_net.paused(name)) _net.resume(name);
        }
        for (const auto& [ref, made_at] : _partition_refs) resolve(ref, made_at);
    }

    // The bound after the last fault heals: a few detection times, re-homing's backoff, and
    // a few gossip rounds (docs/protocol.md §9).
    [[nodiscard]] std::uint64_t settle_bound_rounds() const {
        const auto detection = _s.timing.heartbeat_interval_ms * _s.timing.missed_heartbeats;
        const std::uint64_t rehome_backoff_max = 5000;
        return (6 * detection + 2 * rehome_backoff_max + 10 * _s.timing.gossip_interval_ms + 2000) /
               sim_network::round_ms;
    }

    void settle() {
        const auto bound = settle_bound_rounds();
        std::vector<std::string> last;
        for (std::uint64_t done = 0;; done += 20) {
            last = quiet_violations();
            if (last.empty()) {
                _out.rounds_to_converge = done;
                return;
            }
            if (done >= bound) break;
            _net.run_rounds(20);
        }
        for (auto& v : last)
            violation(std::move(v) + " (" + std::to_string(bound * sim_network::round_ms) + " ms after the heal)");
        _out.final_state = dump();
    }

    // How every node sees the cluster: what a failing seed's report shows.
    [[nodiscard]] std::string dump() const {
        std::ostringstream out;
        for (const auto& name : _net.names()) {
            const auto& node = _net.node(name);
            out << name << " (incarnation " << node.self().incarnation << (_net.crashed(name) ? ", crashed" : "")
                << (node.running() ? "" : ", stopped: " + _net.stop_reason(name).value_or("?")) << ")";
            if (node.self().role == role::client) out << " home '" << node.self().home_server << "'";
            out << "\n    dials:";
            for (const auto& d : node.dials()) out << " " << d.peer << (d.welcomed ? "" : "(unwelcomed)");
            out << "\n    attached:";
            for (const auto& c : node.attached_clients()) out << " " << c;
            for (const auto& p : node.partitions()) out << "\n    partition " << p.ref << " from " << p.peer;
            out << "\n    sees:";
            for (const auto& m : node.liveness_view())
                out << " " << m.node << (m.reachable ? "+" : "-") << (m.direct ? "d" : "")
                    << (m.detected_by.empty() ? "" : "[" + m.detected_by + "]");
            out << "\n";
        }
        return out.str();
    }

    // Invariants 1, 2 (as routes), 3 and 5, read off the nodes without sending anything.
    [[nodiscard]] std::vector<std::string> quiet_violations() const {
        std::vector<std::string> found;
        const auto members = live_members();
        if (members.empty()) return found;
        // 1. One membership everywhere, holding every live node and no stopped one.
        const auto reference = _net.node(members.front()).membership().members();
        for (const auto& name : members) {
            const auto seen = _net.node(name).membership().members();
            if (seen != reference) found.push_back(name + " disagrees with " + members.front() + " on membership");
            if (!std::binary_search(reference.begin(), reference.end(), name))
                found.push_back(name + " is live but not a member");
        }
        // A node that left while its goodbye was lost (a cut link, a lossy network) stays a
        // member, as a crashed node does, until someone removes it; but it must be seen for
        // what it is: unreachable, everywhere.
        for (const auto& name : reference) {
            if (is_ghost(name) || !_net.has(name) || _net.live(name) || _net.crashed(name) || _net.paused(name))
                continue;
            for (const auto& observer : members)
                if (_net.node(observer).reachable(name))
                    found.push_back(observer + " reports " + name + " reachable, which stopped (" +
                                    _net.stop_reason(name).value_or("?") + ")");
        }
        // 2. Every live member can send to every other.
        for (const auto& a : members)
            for (const auto& b : members) {
                if (a == b) continue;
                const auto status = _net.node(a).route_status_of(b);
                if (status != core::route_status::ok)
                    found.push_back(a + " -> " + b + ": " + std::to_string(static_cast<int>(status)) + " (" +
                                    describe_route(status) + ")");
            }
        // 3. Every client has a live home that has it attached.
        for (const auto& name : members) {
            const auto& node = _net.node(name);
            if (node.self().role != role::client) continue;
            const auto& home = node.self().home_server;
            if (home.empty() || !_net.has(home) || !_net.live(home)) {
                found.push_back(name + " has no live home (home '" + home + "')");
                continue;
            }
            const auto dials = node.dials();
            if (std::none_of(dials.begin(), dials.end(),
                             [&](const core::dial_view& d) { return d.welcomed && d.peer == home; }))
                found.push_back(name + " holds no connection to its home " + home);
            const auto attached = _net.node(home).attached_clients();
            if (std::find(attached.begin(), attached.end(), name) == attached.end())
                found.push_back(home + " does not hold its client " + name);
        }
        // 5. A member never heard from is never reachable.
        for (const auto& ghost : _ghosts)
            for (const auto& name : members) {
                const auto& node = _net.node(name);
                if (!node.membership().contains(ghost)) continue;
                if (node.reachable(ghost) || node.route_status_of(ghost) == core::route_status::ok)
                    found.push_back(name + " reports " + ghost + ", never heard from, as reachable");
            }
        return found;
    }

    static std::string describe_route(core::route_status status) {
        switch (status) {
            case core::route_status::ok:
                return "ok";
            case core::route_status::unknown_node:
                return "unknown_node";
            case core::route_status::not_yet_connected:
                return "not_yet_connected";
            case core::route_status::disconnected:
                return "disconnected";
            case core::route_status::unreachable:
                return "unreachable";
            case core::route_status::partitioned:
                return "partitioned";
            case core::route_status::congested:
                return "congested";
            case core::route_status::stopped:
                return "stopped";
        }
        return "?";
    }

    // Invariant 2 by deed: an acked message between every ordered pair of live members.
    void check_every_pair_delivers() {
        const auto members = live_members();
        std::vector<std::string> finals;
        for (const auto& a : members)
            for (const auto& b : members)
                if (a != b) {
                    const auto payload = "f:" + a + ">" + b;
                    send_acked(a, b, payload);
                    if (!_sent.contains(payload)) violation(a + " -> " + b + ": refused after the heal");
                    finals.push_back(payload);
                }
        // Every report comes back within the ack timeout.
        _net.run_rounds(static_cast<int>(_s.timing.ack_timeout_ms / sim_network::round_ms + 50));
        _final_payloads.insert(finals.begin(), finals.end());
    }

    // Invariant 4: an acked message is handled at most once by one life of its receiver, and
    // exactly once when its sender heard it delivered; after the heal, every one is delivered.
    void check_acked_traffic() {
        std::map<std::string, std::map<std::uint64_t, int>> handled;  // payload -> receiver life -> times
        for (const auto& d : _net.deliveries()) {
            ++handled[d.msg.payload][d.at_incarnation];
            if (d.across_partition)
                violation(d.msg.payload + " (" + d.msg.origin + " -> " + d.at +
                          ") handled across a partition in force");
        }
        std::map<std::tuple<std::string, std::uint64_t, std::uint64_t>, const report*> reports;  // (sender, life, id)
        for (const auto& r : _net.reports()) reports[{r.at, r.at_incarnation, r.what.id}] = &r;
        for (const auto& [payload, sent] : _sent) {
            ++_out.acked_messages;
            int times = 0;
            for (const auto& [life, count] : handled[payload]) {
                if (count > 1)
                    violation(payload + " (" + sent.from + " -> " + sent.to + ") handled " + std::to_string(count) +
                              " times by one life of its receiver");
                times += count;
            }
            auto report_of = reports.find({sent.from, sent.from_incarnation, sent.report_id});
            const bool same_sender_life =
                _net.has(sent.from) && _net.node(sent.from).self().incarnation == sent.from_incarnation;
            if (report_of == reports.end()) {
                if (same_sender_life && _net.live(sent.from) && _reports_due)
                    violation(payload + " (" + sent.from + " -> " + sent.to + "): no delivery report");
                continue;
            }
            const auto& what = report_of->second->what;
            if (what.delivered && times == 0)
                violation(payload + " (" + sent.from + " -> " + sent.to + ") reported delivered, never handled");
            if (_final_payloads.contains(payload) && !what.delivered)
                violation(payload + " (" + sent.from + " -> " + sent.to + ") after the heal: " + what.reason);
        }
    }

    const scenario& _s;
    sim_network _net;
    std::mt19937_64 _rng;
    outcome _out;
    std::set<std::string> _ghosts;
    std::set<std::string> _removed;                                    // asked to be removed and not joined again since
    std::vector<std::pair<std::string, std::string>> _partition_refs;  // ref, where it was made
    std::map<std::string, tracked> _sent;                              // by payload
    std::set<std::string> _final_payloads;
    std::uint64_t _messages_sent = 0;  // numbers every payload, so each is unique
    std::vector<steady_flow> _steady;
    order_checker _order;
    std::size_t _active = 0;    // faults in force, the one beginning included
    bool _reports_due = false;  // an ack timeout has passed since the last acked send
};

}  // namespace

outcome run_scenario(const scenario& s) { return run(s).play(); }

}  // namespace zpartisan::sim
