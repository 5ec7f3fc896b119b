// The order guarantee of application messages (docs/protocol.md §7 "Order" and §9), checked
// over what a simulation recorded. Messages are grouped by (sender, its incarnation, receiver,
// its incarnation, channel, lane, acked or plain): one group is one flow between one life of
// each end, so a crash or restart of either (a new incarnation) starts a new group, while a
// pause does not (a paused node keeps its state: it is still up). The lane stands for the
// partition key: the key picks the lane, so order per lane implies order per key.
//
// Within a group, the messages a receiver handled, in the order it handled them, must appear
// in the order they were sent: a subsequence of the send order, so none handled twice either.
// Messages may be missing (a plain one lost, an acked one whose sender gave up), never
// overtaken. Acked and plain messages form separate groups: an acked message whose first copy
// was lost reaches its receiver with its retransmission, behind plain ones sent after it.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/sim_network.hpp"

namespace zpartisan::sim {

class order_checker {
public:
    // A message the application handed over (send_app said ok), identified by its payload,
    // which must be unique; calls come in send order.
    void sent(const std::string& payload, bool ack);
    // Every handling that broke send order, described; at most `shown`, then how many more.
    [[nodiscard]] std::vector<std::string> violations(const std::vector<delivered>& deliveries,
                                                      std::size_t shown = 5) const;
    [[nodiscard]] std::size_t messages() const { return _send_index.size(); }

private:
    struct send_record {
        std::uint64_t index = 0;  // its place in the send order
        bool ack = false;
    };
    std::unordered_map<std::string, send_record> _send_index;  // by payload
};

}  // namespace zpartisan::sim
