#include "runtime/state_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "wire/codec.hpp"
#include "zpartisan/errors.hpp"

namespace zpartisan::runtime {

namespace {

constexpr char file_magic[4] = {'Z', 'P', 'D', 'S'};
constexpr std::uint8_t file_version = 1;
constexpr std::size_t state_bytes_max = 256u << 20;

std::uint64_t fnv1a64(std::string_view bytes) {
    std::uint64_t hash = 1469598103934665603ull;
    for (unsigned char c : bytes) {
        hash ^= c;
        hash *= 1099511628211ull;
    }
    return hash;
}

void put_u64(std::string& out, std::uint64_t value) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

std::uint64_t get_u64(std::string_view in) {
    std::uint64_t value = 0;
    for (int i = 0; i < 8; ++i) value |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
    return value;
}

bool write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const auto written = ::write(fd, bytes.data(), bytes.size());
        if (written < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        bytes.remove_prefix(static_cast<std::size_t>(written));
    }
    return true;
}

}  // namespace

state_store::state_store(std::string data_dir) : _dir(std::move(data_dir)), _path(_dir + "/membership.state") {
    std::error_code ec;
    std::filesystem::create_directories(_dir, ec);
    if (ec || !std::filesystem::is_directory(_dir))
        throw error("data_dir '" + _dir + "' cannot be created: " + (ec ? ec.message() : "not a directory"));
}

load_result state_store::load() const {
    std::ifstream in(_path, std::ios::binary);
    if (!in) return no_saved_state{};
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    constexpr std::size_t header = 4 + 1 + 8 + 8;
    if (bytes.size() < header + 8) return corrupt_state{"truncated (" + std::to_string(bytes.size()) + " bytes)"};
    if (std::memcmp(bytes.data(), file_magic, 4) != 0) return corrupt_state{"not a zpartisan state file"};
    if (static_cast<std::uint8_t>(bytes[4]) != file_version)
        return corrupt_state{"unsupported file version " + std::to_string(static_cast<std::uint8_t>(bytes[4]))};
    const std::string_view view(bytes);
    const auto incarnation = get_u64(view.substr(5));
    const auto length = get_u64(view.substr(13));
    if (length > state_bytes_max || header + length + 8 != bytes.size()) return corrupt_state{"truncated or padded"};
    const auto checksum = get_u64(view.substr(header + length));
    if (checksum != fnv1a64(view.substr(0, header + length))) return corrupt_state{"checksum mismatch"};
    auto state = wire::decode_state(view.substr(header, length), state_bytes_max);
    if (!state) return corrupt_state{"undecodable membership state"};
    return persisted_node{incarnation, std::move(*state)};
}

bool state_store::save(const persisted_node& node, std::string* why) const {
    const auto state = wire::encode_state(node.state);
    std::string bytes(file_magic, 4);
    bytes.push_back(static_cast<char>(file_version));
    put_u64(bytes, node.incarnation);
    put_u64(bytes, state.size());
    bytes += state;
    put_u64(bytes, fnv1a64(bytes));

    const auto temp = _path + ".tmp";
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    auto fail = [&](const char* step) {
        if (why) *why = std::string(step) + " " + temp + ": " + std::strerror(errno);
        return false;
    };
    if (fd < 0) return fail("open");
    if (!write_all(fd, bytes) || ::fsync(fd) != 0) {
        const bool ok = fail("write");
        ::close(fd);
        ::unlink(temp.c_str());
        return ok;
    }
    ::close(fd);
    if (std::rename(temp.c_str(), _path.c_str()) != 0) return fail("rename");
    // The rename itself is durable only once the directory entry is.
    const int dir_fd = ::open(_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
        ::fsync(dir_fd);
        ::close(dir_fd);
    }
    return true;
}

void state_store::erase() const {
    std::error_code ec;
    std::filesystem::remove(_path, ec);
}

void state_store::quarantine() const {
    std::error_code ec;
    std::filesystem::rename(_path, _path + ".corrupt", ec);
}

}  // namespace zpartisan::runtime
