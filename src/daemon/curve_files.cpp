#include "daemon/curve_files.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "transport/curve_keys.hpp"

namespace zpartisan::daemon {

namespace {
constexpr std::size_t key_file_max_bytes = 1 << 20;

std::string read_small_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
    std::string text(key_file_max_bytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > key_file_max_bytes) throw std::runtime_error(path + " is over 1 MiB: not a key file");
    return text;
}

std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& line : lines) out += (out.empty() ? "" : "; ") + line;
    return out;
}
}  // namespace

std::string read_secret_key_file(const std::string& path, std::string& warning) {
    const auto parsed = transport::parse_key_lines(read_small_file(path));
    if (!parsed.errors.empty()) throw std::runtime_error(path + ": " + joined(parsed.errors));
    if (parsed.keys.size() != 1)
        throw std::runtime_error(path + ": holds " + std::to_string(parsed.keys.size()) +
                                 " keys; a secret key file holds exactly one (zpartisan-ctl keygen writes one)");
    struct stat info {};
    if (::stat(path.c_str(), &info) == 0 && (info.st_mode & (S_IRWXG | S_IRWXO)) != 0)
        warning = path + " may be read by users other than its owner (mode " + std::to_string((info.st_mode >> 6) & 7) +
                  std::to_string((info.st_mode >> 3) & 7) + std::to_string(info.st_mode & 7) + "): chmod 600 it";
    return parsed.keys.front();
}

std::vector<std::string> read_allow_list(const std::string& path) {
    auto parsed = transport::parse_key_lines(read_small_file(path));
    if (!parsed.errors.empty()) throw std::runtime_error(path + ": " + joined(parsed.errors));
    return std::move(parsed.keys);
}

}  // namespace zpartisan::daemon
