// The daemon's CurveZMQ files (README, "Security"): the node's secret key (written by
// zpartisan-ctl keygen) and the allow list of peers' public keys, both key files as
// transport/curve_keys.hpp reads them.
#pragma once

#include <string>
#include <vector>

namespace zpartisan::daemon {

// The one key in a secret key file. Throws std::runtime_error naming the file and what is
// wrong (unreadable, no key, more than one). warning is set when others may read the file.
std::string read_secret_key_file(const std::string& path, std::string& warning);

// The keys of an allow list file. Throws std::runtime_error naming the file and every bad
// line, so a typo never silently shuts a peer out (or the list is applied half).
std::vector<std::string> read_allow_list(const std::string& path);

}  // namespace zpartisan::daemon
