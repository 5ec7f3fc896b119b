// Feeds every file of the committed corpus (test/fuzz/corpus/<target>/) to its target, built
// with the normal compiler: the fuzzers' findings stay regression tests on every machine.
// A target with no corpus fails, so a corpus cannot vanish unnoticed.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz_targets.hpp"

namespace fs = std::filesystem;
using namespace zpartisan::fuzz;

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    const fs::path root = argv[1];
    int failures = 0;
    for (const auto& target : fuzz_targets) {
        std::vector<fs::path> files;
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator(root / target.name, ec))
            if (entry.is_regular_file()) files.push_back(entry.path());
        std::sort(files.begin(), files.end());
        if (files.empty()) {
            std::fprintf(stderr, "%s: no corpus in %s\n", target.name, (root / target.name).c_str());
            ++failures;
            continue;
        }
        for (const auto& file : files) {
            std::ifstream in(file, std::ios::binary);
            const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            set_current_input(file.string());
            (void)target.run(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
        }
        std::printf("%s: %zu inputs replayed\n", target.name, files.size());
    }
    return failures == 0 ? 0 : 1;
}
