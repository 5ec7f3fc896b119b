#include "core/liveness_words.hpp"

namespace zpartisan::core {

void liveness_words::heard(const liveness& word, std::uint64_t now_ms) {
    if (word.reachable) {
        _words.erase(word.subject);
        return;
    }
    _words.insert_or_assign(word.subject, heard_word{word, now_ms});
}

const liveness* liveness_words::down_word(std::string_view subject) const {
    const auto it = _words.find(subject);
    return it == _words.end() ? nullptr : &it->second.word;
}

std::vector<std::string> liveness_words::expire(std::uint64_t now_ms) {
    std::vector<std::string> expired;
    for (auto it = _words.begin(); it != _words.end();) {
        if (now_ms >= it->second.heard_ms + _ttl_ms) {
            expired.push_back(it->first);
            it = _words.erase(it);
        } else {
            ++it;
        }
    }
    return expired;
}

std::optional<std::uint64_t> liveness_words::next_expiry_ms() const {
    std::optional<std::uint64_t> earliest;
    for (const auto& [subject, said] : _words)
        if (!earliest || said.heard_ms + _ttl_ms < *earliest) earliest = said.heard_ms + _ttl_ms;
    return earliest;
}

}  // namespace zpartisan::core
