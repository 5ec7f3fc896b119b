// zpartisan-sim-soak: as many nemesis seeds as asked, beyond what `make test` runs. Prints
// seeds run, faults injected and violations found; each failing seed with its replay
// command and its shrunk schedule. `make sim-soak SEEDS=N [FIRST_SEED=K]`.
#include <cstdlib>
#include <iostream>
#include <string>

#include "sim/nemesis.hpp"

int main(int argc, char** argv) {
    std::uint64_t seeds = 1000, first = 1;
    int max_clients = 30;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        const auto value = std::strtoull(argv[i + 1], nullptr, 10);
        if (flag == "--seeds")
            seeds = value;
        else if (flag == "--first-seed")
            first = value;
        else if (flag == "--max-clients")
            max_clients = static_cast<int>(value);
        else {
            std::cerr << "usage: zpartisan-sim-soak [--seeds N] [--first-seed K] [--max-clients C]\n";
            return 2;
        }
    }
    std::uint64_t faults = 0, messages = 0, failed = 0, violations = 0;
    for (auto seed = first; seed < first + seeds; ++seed) {
        const auto s = zpartisan::sim::draw_scenario(seed, max_clients);
        const auto result = zpartisan::sim::run_scenario(s);
        faults += result.faults_injected;
        messages += result.acked_messages;
        if (result.ok()) continue;
        ++failed;
        violations += result.violations.size();
        zpartisan::sim::outcome shrunk_result;
        const auto shrunk = zpartisan::sim::shrink(s, shrunk_result);
        std::cout << "FAILED: replay with ZPARTISAN_SIM_SEED=" << seed
                  << " build/test/zpartisan_unit_tests '[nemesis]'\n"
                  << zpartisan::sim::describe(shrunk) << "\n";
        for (const auto& v : (shrunk_result.ok() ? result : shrunk_result).violations) std::cout << "  " << v << "\n";
    }
    std::cout << "sim-soak: " << seeds << " seeds run (" << first << ".." << first + seeds - 1 << "), " << faults
              << " faults injected, " << messages << " acked messages checked, " << violations << " violations in "
              << failed << " seeds\n";
    return failed == 0 ? 0 : 1;
}
