// The specs zpartisan-ctl update-members sends (docs/control.md): from arguments such as
// name=c9,role=client,router_endpoint=tcp://127.0.0.1:7100,home=s1,incarnation=1, or from a
// JSON file such as the `state --json` answer. The node checks the fields; these only read.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace zpartisan::cli {

// One spec object from key=value pairs, comma separated; incarnation becomes a number.
// Throws std::runtime_error for a pair without '=' or a key given twice.
[[nodiscard]] nlohmann::json spec_from_argument(const std::string& text);
// The specs in a JSON file ("-": standard input): an array of spec objects, or an object with
// one under "specs". Throws std::runtime_error when it cannot be read or is neither.
[[nodiscard]] nlohmann::json specs_from_file(const std::string& path);

}  // namespace zpartisan::cli
