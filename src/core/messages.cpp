#include "core/messages.hpp"

namespace zpartisan::core {

const char* name_of(message_type type) {
    switch (type) {
        case message_type::hello:
            return "hello";
        case message_type::welcome:
            return "welcome";
        case message_type::referral:
            return "referral";
        case message_type::refusal:
            return "refusal";
        case message_type::delta:
            return "delta";
        case message_type::digest:
            return "digest";
        case message_type::sync_delta:
            return "sync_delta";
        case message_type::beacon:
            return "beacon";
        case message_type::heartbeat:
            return "heartbeat";
        case message_type::liveness:
            return "liveness";
        case message_type::partition_request:
            return "partition_request";
        case message_type::partition_resolve:
            return "partition_resolve";
        case message_type::partition_groups:
            return "partition_groups";
        case message_type::forward:
            return "forward";
        case message_type::forward_ack:
            return "forward_ack";
        case message_type::partition_applied:
            return "partition_applied";
    }
    return "unknown";
}

message_type type_of(const message& m) { return static_cast<message_type>(m.index() + 1); }

}  // namespace zpartisan::core
