#include "sim/order_checker.hpp"

#include <map>
#include <tuple>

namespace zpartisan::sim {

void order_checker::sent(const std::string& payload, bool ack) {
    _send_index.try_emplace(payload, send_record{_send_index.size(), ack});
}

std::vector<std::string> order_checker::violations(const std::vector<delivered>& deliveries, std::size_t shown) const {
    // (origin, its incarnation, receiver, its incarnation, channel, lane, acked)
    using flow = std::tuple<std::string, std::uint64_t, std::string, std::uint64_t, std::string, std::uint32_t, bool>;
    struct last_handled {
        std::uint64_t index = 0;
        std::string payload;
    };
    std::map<flow, last_handled> last;
    std::vector<std::string> found;
    std::size_t more = 0;
    for (const auto& d : deliveries) {
        const auto sent = _send_index.find(d.msg.payload);
        if (sent == _send_index.end()) continue;  // not sent through sent(): not ours to judge
        const auto& m = d.msg;
        auto [it, first] = last.try_emplace(
            flow{m.origin, m.origin_incarnation, d.at, d.at_incarnation, m.channel, m.lane, sent->second.ack},
            last_handled{sent->second.index, m.payload});
        if (first) continue;
        if (sent->second.index > it->second.index) {
            it->second = last_handled{sent->second.index, m.payload};
            continue;
        }
        if (found.size() >= shown) {
            ++more;
            continue;
        }
        found.push_back("order: " + m.payload + " (" + m.origin + " -> " + d.at + ", channel '" + m.channel +
                        "', lane " + std::to_string(m.lane) + (sent->second.ack ? ", acked" : ", plain") +
                        ") handled after " + it->second.payload +
                        (sent->second.index == it->second.index ? " (itself, again)" : ", sent later") +
                        ", by the same life of each");
    }
    if (more > 0) found.push_back("order: " + std::to_string(more) + " more handled out of send order");
    return found;
}

}  // namespace zpartisan::sim
