// The persisted state file (src/wire/state_file.hpp): any file loads or is refused with a
// reason; what loads saves to a file that loads the same and whose every checksum byte matters.
// The input is tried twice: as a whole file, and as the state inside a well-framed file, so
// the fuzzer reaches the state decoder past the checksum it cannot forge.
#include <string>

#include "fuzz_targets.hpp"
#include "wire/state_file.hpp"

namespace zpartisan::fuzz {

namespace {

// The file layout of wire/state_file.hpp, written out here on purpose: a second reading of it.
std::string framed(std::string_view state, std::uint64_t incarnation) {
    std::string file("ZPDS\x01", 5);
    auto put_u64 = [&file](std::uint64_t v) {
        for (int i = 0; i < 8; ++i) file.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    };
    put_u64(incarnation);
    put_u64(state.size());
    file.append(state);
    std::uint64_t hash = 1469598103934665603ull;
    for (unsigned char c : file) {
        hash ^= c;
        hash *= 1099511628211ull;
    }
    put_u64(hash);
    return file;
}

void check_file(std::string_view file) {
    std::string why;
    const auto node = wire::decode_state_file(file, &why);
    if (!node) {
        fuzz_require(!why.empty(), "a refused file says why");
        return;
    }
    auto saved = wire::encode_state_file(*node);
    const auto again = wire::decode_state_file(saved);
    fuzz_require(again.has_value() && *again == *node, "a loaded file saves to one that loads the same");
    saved.back() = static_cast<char>(saved.back() ^ 0x01);
    fuzz_require(!wire::decode_state_file(saved).has_value(), "a file with a wrong checksum is refused");
}

}  // namespace

int fuzz_state_file(const std::uint8_t* data, std::size_t size) {
    const auto bytes = as_text(data, size);
    check_file(bytes);
    const auto file = framed(bytes, size);
    check_file(file);
    const auto node = wire::decode_state_file(file);
    if (node) fuzz_require(node->incarnation == size, "the incarnation is the file's");
    return 0;
}

}  // namespace zpartisan::fuzz
