#include "cli/member_spec_arguments.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

namespace zpartisan::cli {

using nlohmann::json;

json spec_from_argument(const std::string& text) {
    json spec = json::object();
    std::stringstream pairs(text);
    for (std::string pair; std::getline(pairs, pair, ',');) {
        const auto equals = pair.find('=');
        if (equals == std::string::npos || equals == 0)
            throw std::runtime_error("spec '" + text + "': '" + pair + "' is not key=value");
        const auto key = pair.substr(0, equals);
        const auto value = pair.substr(equals + 1);
        if (spec.contains(key)) throw std::runtime_error("spec '" + text + "': " + key + " is given twice");
        const bool digits = !value.empty() && value.size() < 20 &&
                            std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isdigit(c); });
        if (key == "incarnation" && digits) {
            spec[key] = std::stoull(value);
        } else {
            spec[key] = value;  // a bad incarnation goes as text: the node says what is wrong
        }
    }
    return spec;
}

json specs_from_file(const std::string& path) {
    json parsed;
    try {
        if (path == "-") {
            parsed = json::parse(std::cin);
        } else {
            std::ifstream in(path);
            if (!in) throw std::runtime_error("cannot read --specs-file " + path);
            parsed = json::parse(in);
        }
    } catch (const json::parse_error& e) {
        throw std::runtime_error("--specs-file " + path + " is not JSON: " + e.what());
    }
    if (parsed.is_object() && parsed.contains("specs")) parsed = parsed["specs"];
    if (!parsed.is_array())
        throw std::runtime_error("--specs-file " + path + ": expected an array of specs or an object with \"specs\"");
    return parsed;
}

}  // namespace zpartisan::cli
