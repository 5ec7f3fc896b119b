// Persists a node's membership state and incarnation in its data_dir, atomically: write a
// temp file, fsync it, rename it over the old one, fsync the directory. A crash at any point
// leaves either the old file or the new one. Loading never throws on bad content: a corrupt
// or truncated file is reported so the node can start fresh with a warning.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "wire/state_file.hpp"

namespace zpartisan::runtime {

using wire::persisted_node;

struct no_saved_state {};
struct corrupt_state {
    std::string reason;
};

using load_result = std::variant<persisted_node, no_saved_state, corrupt_state>;

class state_store {
public:
    // Creates data_dir when missing; throws zpartisan::error when it cannot.
    explicit state_store(std::string data_dir);

    [[nodiscard]] load_result load() const;
    // Returns false (with errno text in *why) when the write failed; the old file survives.
    bool save(const persisted_node& node, std::string* why = nullptr) const;
    void erase() const;
    // Moves a corrupt file aside (state.corrupt) so the next start does not trip on it.
    void quarantine() const;
    [[nodiscard]] const std::string& path() const { return _path; }

private:
    std::string _dir;
    std::string _path;
};

}  // namespace zpartisan::runtime
