// What servers said about members we do not watch ourselves (docs/protocol.md §5): the latest
// "down" word per subject, with when we heard it. A server speaks for what it watches; PUB/SUB
// may lose a word, so the announcer repeats each down word at every beacon, and a word not
// repeated for ttl_ms (a few beacon intervals) has lost its evidence and is forgotten (a lost
// "up" heals so). Whether a word counts for a subject (who speaks for whom) is the caller's.
// Pure: time comes in as now_ms.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/messages.hpp"

namespace zpartisan::core {

class liveness_words {
public:
    explicit liveness_words(std::uint64_t ttl_ms) : _ttl_ms(ttl_ms) {}

    // A word heard now: a down word is kept (the latest per subject), an up word forgets it.
    void heard(const liveness& word, std::uint64_t now_ms);
    // The down word in force about subject, if any.
    [[nodiscard]] const liveness* down_word(std::string_view subject) const;
    // Forgets the words not repeated for ttl_ms; returns their subjects.
    std::vector<std::string> expire(std::uint64_t now_ms);
    // When expire next forgets one; nullopt when none is kept.
    [[nodiscard]] std::optional<std::uint64_t> next_expiry_ms() const;
    [[nodiscard]] bool empty() const { return _words.empty(); }

private:
    struct heard_word {
        liveness word;
        std::uint64_t heard_ms = 0;
    };
    std::uint64_t _ttl_ms;
    std::map<std::string, heard_word, std::less<>> _words;  // by subject
};

}  // namespace zpartisan::core
