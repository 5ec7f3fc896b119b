#include "daemon/membership_events.hpp"

namespace zpartisan::daemon {

using nlohmann::json;

membership_sample sample_of(const Node& node) {
    membership_sample sample;
    sample.running = node.running();
    sample.stopped_reason = node.stopped_reason();
    std::map<std::string, liveness_info> seen;
    for (auto& entry : node.liveness()) seen[entry.node] = entry;
    for (const auto& spec : node.members_for_orchestration()) {
        member_sample member{std::string(to_string(spec.role)), spec.home_server, spec.incarnation, {}};
        member.liveness.node = spec.name;
        if (const auto it = seen.find(spec.name); it != seen.end()) member.liveness = it->second;
        if (spec.name == node.name()) member.liveness.reachable = true;
        sample.members.emplace(spec.name, std::move(member));
    }
    for (const auto& p : node.partitions()) sample.partitions.emplace(p.ref, p.peer);  // (ref, peer)
    return sample;
}

namespace {

json evidence_of(const liveness_info& seen) {
    return {{"detected_by", seen.detected_by},
            {"silent_ms", seen.silent_ms},
            {"missed_heartbeats", seen.missed_heartbeats},
            {"connection_lost", seen.connection_lost},
            {"direct", seen.direct}};
}

}  // namespace

std::vector<membership_event> changes_between(const membership_sample& before, const membership_sample& after) {
    std::vector<membership_event> joins, rehomes, ups, downs, cuts, heals, removals, stops;
    for (const auto& [name, now] : after.members) {
        const auto it = before.members.find(name);
        if (it == before.members.end()) {
            joins.push_back({"join", name, {{"role", now.role}, {"home", now.home}, {"incarnation", now.incarnation}}});
            if (!now.liveness.reachable) downs.push_back({"down", name, evidence_of(now.liveness)});
            continue;
        }
        const auto& was = it->second;
        if (now.incarnation != was.incarnation)
            joins.push_back(
                {"restart", name, {{"incarnation", now.incarnation}, {"previous_incarnation", was.incarnation}}});
        if (now.home != was.home)
            rehomes.push_back({"rehome", name, {{"home", now.home}, {"previous_home", was.home}}});
        if (now.liveness.reachable && !was.liveness.reachable) ups.push_back({"up", name, {}});
        if (!now.liveness.reachable && was.liveness.reachable)
            downs.push_back({"down", name, evidence_of(now.liveness)});
    }
    for (const auto& [name, was] : before.members)
        if (!after.members.contains(name)) removals.push_back({"removed", name, {{"role", was.role}}});
    for (const auto& cut : after.partitions)
        if (!before.partitions.contains(cut)) cuts.push_back({"partition", cut.second, {{"ref", cut.first}}});
    for (const auto& cut : before.partitions)
        if (!after.partitions.contains(cut)) heals.push_back({"heal", cut.second, {{"ref", cut.first}}});
    if (before.running && !after.running) stops.push_back({"stopped", "", {{"reason", after.stopped_reason}}});

    std::vector<membership_event> all;
    for (auto* group : {&joins, &rehomes, &ups, &downs, &cuts, &heals, &removals, &stops})
        all.insert(all.end(), std::make_move_iterator(group->begin()), std::make_move_iterator(group->end()));
    return all;
}

json to_json(const membership_event& event) {
    json out = {{"event", event.kind}, {"node", event.node}};
    for (const auto& [key, value] : event.detail.items()) out[key] = value;
    return out;
}

}  // namespace zpartisan::daemon
