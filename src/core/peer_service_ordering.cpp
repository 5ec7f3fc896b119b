// peer_service: order per origin, destination, channel and lane (docs/protocol.md §7, Order).
// Plain frames are numbered, and a receiver drops one that a later one overtook. The sender
// chains each acked message to the one it sent before on the same destination, channel and
// lane, and says which ids it has settled (core/acked_sends.hpp); the receiver hands them over in that order,
// holding one that arrives before its predecessor (core/receive_order.hpp) until the
// predecessor comes or is known never to.
#include <algorithm>
#include <utility>

#include "core/peer_service.hpp"

namespace zpartisan::core {

bool peer_service::plain_in_order(const plain_arrival& arrival, std::uint64_t now_ms) {
    if (_receive_order.admit_plain(arrival.origin, arrival.origin_incarnation, arrival.channel, arrival.lane,
                                   arrival.sequence, now_ms))
        return true;
    _counters["dropped_plain_overtaken"] += std::max<std::uint32_t>(arrival.entries, 1);
    return false;
}

void peer_service::take_in_order(forward&& msg, std::uint64_t now_ms) {
    using admission = receive_order::admission;
    switch (_receive_order.admit(msg, now_ms)) {
        case admission::now: {
            const receive_order::position handed{msg.origin, msg.origin_incarnation, msg.channel, msg.lane, msg.id};
            if (hand_over(std::move(msg), now_ms)) _receive_order.passed(handed);
            break;
        }
        case admission::held:
            break;  // unanswered: its retransmissions come back meanwhile
        case admission::held_already:
            count("held_back_copies");
            break;
        case admission::late:
            // Its lane went on without it (its origin had given up on it): never handed over,
            // so never answered "delivered". An unknown handler is still said so.
            if (handler_known(msg.handler, msg.bundled))
                count("dropped_behind_order");
            else
                answer(msg, ack_status::unknown_handler, now_ms);
            break;
        case admission::older_origin:
            count("dropped_from_older_incarnation");
            break;
        case admission::no_room:
            count("dropped_hold_back_full");
            break;  // left to its retransmission
    }
    release_held(now_ms, false);
}

void peer_service::release_held(std::uint64_t now_ms, bool overdue) {
    // A full handler queue takes none: they stay held, in order, for the next turn.
    if (_deliveries_backlogged || _receive_order.held() == 0) return;
    std::vector<forward> turn;
    if (overdue)
        _receive_order.take_overdue(now_ms, turn);
    else
        _receive_order.take_ready(turn);
    for (auto& msg : turn) (void)hand_over(std::move(msg), now_ms);
}

}  // namespace zpartisan::core
