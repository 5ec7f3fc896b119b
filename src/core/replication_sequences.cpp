#include "core/replication_sequences.hpp"

namespace zpartisan::core {

bool replication_sequences::observe(const std::string& publisher, std::uint64_t seq, bool is_delta) {
    auto [seen, first] = _seen.try_emplace(publisher, seq);
    // A delta should be the next number; a beacon should repeat the last one we got.
    const bool gap = first || (is_delta ? seq != seen->second + 1 : seq != seen->second);
    seen->second = seq;
    return gap;
}

}  // namespace zpartisan::core
