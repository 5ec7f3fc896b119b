#include "zpartisan/node.hpp"

#include <algorithm>

#include "core/endpoint.hpp"
#include "runtime/reactor.hpp"
#include "wire/codec.hpp"

namespace zpartisan {

namespace {
std::optional<op_result> check_endpoint(const std::string& endpoint) {
    std::string why;
    if (!core::parse_endpoint(endpoint, &why)) return op_result{op_status::bad_endpoint, why};
    return std::nullopt;
}
}  // namespace

Node::Node(config cfg) {
    cfg.validate();
    _reactor = std::make_unique<runtime::reactor>(std::move(cfg));
}

Node::~Node() = default;

void Node::stop() { _reactor->stop(); }

op_result Node::join(const std::string& endpoint) {
    if (auto bad = check_endpoint(endpoint)) return *bad;
    if (_reactor->stopped()) return {op_status::stopped, "node stopped"};
    return _reactor->call([&](core::peer_service& core, std::uint64_t now) {
        if (!core.running()) return op_result{op_status::stopped, "the peer service stopped"};
        core.join(endpoint, now);
        return op_result{};
    });
}

op_result Node::sync_join(const std::string& endpoint, std::chrono::milliseconds timeout) {
    if (auto bad = check_endpoint(endpoint)) return *bad;
    if (_reactor->stopped()) return {op_status::stopped, "node stopped"};
    auto done = _reactor->join_and_wait(endpoint, timeout);
    // The reactor resolves the future at the deadline; the extra margin only covers a
    // reactor that died, so the caller is never blocked forever.
    if (done.wait_for(timeout + std::chrono::seconds(1)) != std::future_status::ready)
        return {op_status::timeout, "no answer from the reactor"};
    return done.get();
}

op_result Node::leave() {
    if (_reactor->stopped()) return {op_status::stopped, "node stopped"};
    return _reactor->call([](core::peer_service& core, std::uint64_t now) {
        if (!core.running()) return op_result{op_status::stopped, "the peer service already stopped"};
        core.leave(now);
        return op_result{};
    });
}

op_result Node::leave(const std::string& name) {
    if (_reactor->stopped()) return {op_status::stopped, "node stopped"};
    return _reactor->call([&](core::peer_service& core, std::uint64_t now) {
        if (!core.running()) return op_result{op_status::stopped, "the peer service stopped"};
        if (!core.remove_member(name, now)) return op_result{op_status::unknown_node, "no member named " + name};
        return op_result{};
    });
}

op_result Node::update_members(const std::vector<node_spec>& specs) {
    if (_reactor->stopped()) return {op_status::stopped, "node stopped"};
    return _reactor->call([&](core::peer_service& core, std::uint64_t now) {
        if (!core.running()) return op_result{op_status::stopped, "the peer service stopped"};
        core.update_members(specs, now);
        return op_result{};
    });
}

std::vector<std::string> Node::members() const {
    return _reactor->call([](core::peer_service& core, std::uint64_t) { return core.membership().members(); });
}

std::vector<node_spec> Node::members_for_orchestration() const {
    return _reactor->call([](core::peer_service& core, std::uint64_t) { return core.membership().specs(); });
}

std::string Node::get_local_state() const {
    return _reactor->call(
        [](core::peer_service& core, std::uint64_t) { return wire::encode_state(core.membership().state()); });
}

std::optional<std::vector<node_spec>> Node::decode(std::string_view state) {
    auto decoded = wire::decode_state(state, state.size());
    if (!decoded) return std::nullopt;
    return core::specs_of(*decoded);
}

node_status Node::status() const {
    auto status = _reactor->call([](core::peer_service& core, std::uint64_t) {
        node_status s;
        s.self = core.self();
        s.running = core.running();
        s.settled = core.settled();
        s.member_count = core.membership().members().size();
        for (const auto& dial : core.dials()) s.dials.push_back({dial.endpoint, dial.peer, dial.welcomed});
        s.attached_clients = core.attached_clients();
        return s;
    });
    status.counters = _reactor->counters();
    return status;
}

callback_handle Node::on_up(const std::string& node, std::function<void()> fn) {
    return on_up(node, [fn = std::move(fn)](const std::string&) { fn(); });
}

callback_handle Node::on_up(const std::string& node, std::function<void(const std::string&)> fn) {
    if (!fn) throw usage_error("on_up: empty callback");
    return _reactor->events().subscribe(true, node, std::move(fn));
}

callback_handle Node::on_down(const std::string& node, std::function<void()> fn) {
    return on_down(node, [fn = std::move(fn)](const std::string&) { fn(); });
}

callback_handle Node::on_down(const std::string& node, std::function<void(const std::string&)> fn) {
    if (!fn) throw usage_error("on_down: empty callback");
    return _reactor->events().subscribe(false, node, std::move(fn));
}

bool Node::remove_callback(callback_handle handle) { return _reactor->events().unsubscribe(handle); }

std::vector<liveness_info> Node::liveness() const {
    return _reactor->call([](core::peer_service& core, std::uint64_t now) {
        std::vector<liveness_info> out;
        for (const auto& entry : core.liveness_view()) {
            liveness_info info{entry.node, entry.reachable, entry.direct, entry.detected_by, entry.silent_ms,
                               entry.missed_heartbeats, entry.connection_lost};
            if (entry.direct && !entry.reachable) info.silent_ms = now - entry.last_heard_ms;
            out.push_back(std::move(info));
        }
        return out;
    });
}

partition_result Node::inject_partition(const std::string& origin, std::uint32_t ttl) {
    if (_reactor->stopped()) return {op_status::stopped, "", "node stopped"};
    return _reactor->call([&](core::peer_service& core, std::uint64_t now) {
        if (!core.running()) return partition_result{op_status::stopped, "", "the peer service stopped"};
        if (origin != core.self().name && !core.membership().contains(origin))
            return partition_result{op_status::unknown_node, "", "no member named " + origin};
        auto ref = core.inject_partition(origin, ttl, now);
        if (!ref) return partition_result{op_status::refused, "", "no route to " + origin};
        return partition_result{op_status::ok, *ref, ""};
    });
}

partition_result Node::partition_groups(const std::vector<std::vector<std::string>>& groups) {
    if (groups.size() < 2) throw usage_error("partition_groups: at least two groups");
    if (_reactor->stopped()) return {op_status::stopped, "", "node stopped"};
    return _reactor->call([&](core::peer_service& core, std::uint64_t) {
        if (!core.running()) return partition_result{op_status::stopped, "", "the peer service stopped"};
        return partition_result{op_status::ok, core.partition_into_groups(groups), ""};
    });
}

op_result Node::resolve_partition(const std::string& ref) {
    if (_reactor->stopped()) return {op_status::stopped, "node stopped"};
    return _reactor->call([&](core::peer_service& core, std::uint64_t) {
        if (!core.running()) return op_result{op_status::stopped, "the peer service stopped"};
        (void)core.resolve_partition(ref);  // held here or not, the heal floods the cluster
        return op_result{};
    });
}

std::vector<partition_entry> Node::partitions() const {
    return _reactor->call([](core::peer_service& core, std::uint64_t) {
        std::vector<partition_entry> out;
        for (const auto& p : core.partitions()) out.push_back({p.ref, p.peer});
        return out;
    });
}

op_result Node::reserve(const std::string& tag) {
    if (_reactor->stopped()) return {op_status::stopped, "node stopped"};
    return _reactor->call([&](core::peer_service& core, std::uint64_t) {
        switch (core.reserve(tag)) {
            case core::reserve_status::ok: return op_result{};
            case core::reserve_status::no_available_slots: return op_result{op_status::refused, "no_available_slots"};
            case core::reserve_status::not_a_server: return op_result{op_status::refused, "only servers hold client slots"};
        }
        return op_result{op_status::refused, "unknown"};
    });
}

std::vector<std::string> Node::capabilities() {
    return {"anti_entropy",  "failure_detection", "membership_crdt", "monitoring", "partition_injection",
            "persistence",   "rehoming",          "reservations"};
}

bool Node::supports_capability(std::string_view name) {
    const auto all = capabilities();
    return std::find(all.begin(), all.end(), name) != all.end();
}

void Node::inject_publish_loss(double ratio) {
    if (!(ratio >= 0.0 && ratio <= 1.0)) throw usage_error("inject_publish_loss: ratio must be within [0, 1]");
    (void)_reactor->call([this, ratio](core::peer_service&, std::uint64_t) {
        _reactor->set_publish_loss(ratio);
        return true;
    });
}

const std::string& Node::name() const { return _reactor->cfg().name; }
std::string Node::router_endpoint() const { return _reactor->advertised_self().router_endpoint; }
std::string Node::pub_endpoint() const { return _reactor->advertised_self().pub_endpoint; }

}  // namespace zpartisan
