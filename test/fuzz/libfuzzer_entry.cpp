// libFuzzer's entry point for one target, chosen at build time (test/fuzz/CMakeLists.txt).
#include "fuzz_targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return zpartisan::fuzz::ZPARTISAN_FUZZ_TARGET(data, size);
}
