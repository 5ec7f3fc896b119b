// The wire protocol version this build speaks (docs/protocol.md): a node refuses a peer of
// another version. The public API reports it as zpartisan::protocol_version().
#pragma once

#include <cstdint>

namespace zpartisan::core {

// 2: compact forward and forward_ack; 3: bundles; 4: digest fingerprints; 5: order fields on
// acked forwards, and partition requests name their requester, which partition_applied answers;
// 6: hello and welcome advertise max_message_bytes, refusal too_many_peers; a node spec ends
// with its CurveZMQ public key, a referral with its servers' keys
inline constexpr std::uint32_t protocol_version = 6;

}  // namespace zpartisan::core
