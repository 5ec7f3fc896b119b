// The fuzz targets: one function per decoder, fed any bytes. Each returns 0, and calls
// fuzz_require() for a property the decoder must keep (decode(encode(x)) == x for what it
// decoded, views that agree with full decodes...); a broken property aborts, so libFuzzer
// (`make fuzz`) and the corpus replay in `make test` both report it. docs/fuzzing.md says more.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace zpartisan::fuzz {

int fuzz_wire_codec(const std::uint8_t* data, std::size_t size);
int fuzz_routed_codec(const std::uint8_t* data, std::size_t size);
int fuzz_control_request(const std::uint8_t* data, std::size_t size);
int fuzz_state_file(const std::uint8_t* data, std::size_t size);
int fuzz_digest(const std::uint8_t* data, std::size_t size);

struct fuzz_target {
    const char* name;  // also its corpus directory, test/fuzz/corpus/<name>
    int (*run)(const std::uint8_t*, std::size_t);
};

inline constexpr fuzz_target fuzz_targets[] = {
    {"wire_codec", fuzz_wire_codec},
    {"routed_codec", fuzz_routed_codec},
    {"control_request", fuzz_control_request},
    {"state_file", fuzz_state_file},
    {"digest", fuzz_digest},
};

// Aborts, naming the property and the input being replayed (when the replay driver set it).
void fuzz_require(bool holds, const char* property);
// The replay driver names each corpus file before it runs it; libFuzzer names crashes itself.
void set_current_input(std::string_view name);

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

}  // namespace zpartisan::fuzz
