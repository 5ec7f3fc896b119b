// The frames the reactor sends and the status a refused send reports: shared by the loop
// (reactor.cpp), the outbox (reactor_outbox.cpp) and the stalled frames (reactor_stalled.cpp).
#pragma once

#include "core/messages.hpp"
#include "core/peer_service.hpp"
#include "transport/frame.hpp"
#include "wire/routed_codec.hpp"
#include "zpartisan/messaging.hpp"

namespace zpartisan::runtime {

transport::frame frame_of(const wire::forward_fields& fields);
transport::frame frame_of(const core::message& msg);
send_status refusal_of(core::route_status route, bool acked);

}  // namespace zpartisan::runtime
