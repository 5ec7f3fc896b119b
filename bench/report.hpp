// One measured figure, printed as a table row or as one JSON object per line (--json).
#pragma once

#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

namespace zpartisan::bench {

struct reporter {
    bool json = false;

    void figure(const nlohmann::json& fields) const {
        if (json) {
            std::cout << fields.dump() << std::endl;
            return;
        }
        std::string line;
        for (const auto& [key, value] : fields.items())
            line += key + "=" + (value.is_string() ? value.get<std::string>() : value.dump()) + "  ";
        std::cout << line << std::endl;
    }
};

}  // namespace zpartisan::bench
