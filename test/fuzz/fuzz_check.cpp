#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz_targets.hpp"

namespace zpartisan::fuzz {

namespace {
std::string current_input;
}

void set_current_input(std::string_view name) { current_input = name; }

void fuzz_require(bool holds, const char* property) {
    if (holds) return;
    std::fprintf(stderr, "fuzz: property broken: %s%s%s\n", property, current_input.empty() ? "" : "; input ",
                 current_input.c_str());
    std::abort();
}

}  // namespace zpartisan::fuzz
