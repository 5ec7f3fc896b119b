// zpartisan-ctl keygen: writes a CurveZMQ keypair (README, "Security"). PATH gets the secret
// key, created readable and writable by its owner only; PATH.pub the public key, for allow
// lists. Both are key files as transport/curve_keys.hpp reads them (a comment line, the key).
#pragma once

#include <string>

namespace zpartisan::cli {

// Throws std::runtime_error naming the file and the reason (one exists already, no room...);
// then neither file is left behind. Returns the public key.
std::string write_keypair(const std::string& path, const std::string& comment, bool overwrite);

}  // namespace zpartisan::cli
