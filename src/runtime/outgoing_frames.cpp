#include "runtime/outgoing_frames.hpp"

#include "wire/codec.hpp"

namespace zpartisan::runtime {

// A routed message is written straight into the buffer ZeroMQ sends; anything else (control
// traffic, rare) is encoded by the cereal codec and copied in.
transport::frame frame_of(const wire::forward_fields& fields) {
    transport::frame frame(wire::encoded_size(fields));
    wire::encode_into(fields, frame.data());
    return frame;
}

transport::frame frame_of(const core::message& msg) {
    if (const auto* data = std::get_if<core::forward>(&msg)) return frame_of(wire::fields_of(*data));
    if (const auto* ack = std::get_if<core::forward_ack>(&msg)) {
        transport::frame frame(wire::encoded_size(*ack));
        wire::encode_into(*ack, frame.data());
        return frame;
    }
    return transport::frame(std::string_view(wire::encode(msg)));
}

// What a send meets on a route: ok, or why it is refused at once. Acked messages wait for a
// route that is down or not there yet (retransmitted until their deadline).
send_status refusal_of(core::route_status route, bool acked) {
    switch (route) {
        case core::route_status::ok:
            return send_status::ok;
        case core::route_status::unreachable:
            return acked ? send_status::ok : send_status::unreachable;
        case core::route_status::unknown_node:
            return send_status::unknown_node;
        case core::route_status::not_yet_connected:
            return acked ? send_status::ok : send_status::not_yet_connected;
        case core::route_status::disconnected:
            return acked ? send_status::ok : send_status::disconnected;
        case core::route_status::partitioned:
            return send_status::partitioned;
        case core::route_status::congested:
            return send_status::congested;
        case core::route_status::stopped:
            return send_status::stopped;
    }
    return send_status::unknown_node;
}

}  // namespace zpartisan::runtime
