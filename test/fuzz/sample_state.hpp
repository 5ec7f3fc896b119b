// A small membership of two servers and a client, one removed: what the digest target's local
// replica holds, and the seeds' states are made of.
#pragma once

#include "core/membership_set.hpp"

namespace zpartisan::fuzz {

[[nodiscard]] const core::membership_set& sample_membership();
[[nodiscard]] node_spec sample_spec(const char* name, role r, std::uint64_t incarnation);

}  // namespace zpartisan::fuzz
