#include "cli/payload_input.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include "wire/base64.hpp"

namespace zpartisan::cli {

namespace {

std::string read_all(const std::string& path) {
    if (path == "-") return {std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read --payload-file " + path);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    if (in.bad()) throw std::runtime_error("cannot read --payload-file " + path);
    return std::move(bytes).str();
}

bool is_utf8(const std::string& text) {
    try {
        (void)nlohmann::json(text).dump();  // the strict dump throws on bytes that are not UTF-8
        return true;
    } catch (const nlohmann::json::type_error&) {
        return false;
    }
}

}  // namespace

void put_payload(nlohmann::json& request, const payload_input& input) {
    if (input.argument && !input.file.empty()) throw std::runtime_error("give the payload or --payload-file, not both");
    if (!input.argument && input.file.empty())
        throw std::runtime_error("a payload is needed: PAYLOAD or --payload-file PATH");
    auto given = input.argument ? *input.argument : read_all(input.file);
    if (input.base64) {
        // As `base64` prints it, line breaks and all.
        given.erase(std::remove_if(given.begin(), given.end(), [](unsigned char c) { return std::isspace(c); }),
                    given.end());
        std::string why;
        if (!wire::base64_decode(given, &why)) throw std::runtime_error("the payload is not base64: " + why);
        request["payload_base64"] = given;
    } else if (input.argument && is_utf8(given)) {
        request["payload"] = given;
    } else {
        request["payload_base64"] = wire::base64_encode(given);
    }
}

}  // namespace zpartisan::cli
