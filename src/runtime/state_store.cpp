#include "runtime/state_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "zpartisan/errors.hpp"

namespace zpartisan::runtime {

namespace {

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
    std::ifstream in(_path, std::ios::binary | std::ios::ate);
    if (!in) return no_saved_state{};
    // Sized before it is read: a file larger than any state it may hold is not loaded whole.
    const auto size = static_cast<std::streamoff>(in.tellg());
    if (size < 0) return corrupt_state{"unreadable"};
    if (static_cast<std::uint64_t>(size) > wire::state_file_state_max + wire::state_file_overhead)
        return corrupt_state{"larger than any state (" + std::to_string(size) + " bytes)"};
    std::string bytes(static_cast<std::size_t>(size), '\0');
    in.seekg(0);
    if (!in.read(bytes.data(), size)) return corrupt_state{"unreadable"};
    std::string why;
    auto node = wire::decode_state_file(bytes, &why);
    if (!node) return corrupt_state{why + " (" + std::to_string(bytes.size()) + " bytes)"};
    return std::move(*node);
}

bool state_store::save(const persisted_node& node, std::string* why) const {
    const auto bytes = wire::encode_state_file(node);

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
