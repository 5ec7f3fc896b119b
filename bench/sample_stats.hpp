// Summaries of a benchmark's samples, shared by the benchmarks.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

namespace zpartisan::bench {

// The middle sample (the upper one of an even count); NaN when there is none.
inline double median(std::vector<double> samples) {
    if (samples.empty()) return std::nan("");
    std::sort(samples.begin(), samples.end());
    return samples[samples.size() / 2];
}

}  // namespace zpartisan::bench
