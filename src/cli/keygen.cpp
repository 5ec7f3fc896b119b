#include "cli/keygen.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "transport/curve_keys.hpp"

namespace zpartisan::cli {

namespace {
void write_file(const std::string& path, const std::string& text, mode_t mode, bool overwrite) {
    // O_EXCL: never follow a link an attacker left at the path, never clobber a key by mistake.
    if (overwrite && ::unlink(path.c_str()) != 0 && errno != ENOENT)
        throw std::runtime_error("cannot replace " + path + ": " + std::strerror(errno));
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0)
        throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno) +
                                 (errno == EEXIST ? " (use --force to replace it)" : ""));
    // The umask may have taken bits away, never added them; set exactly what is meant.
    bool ok = ::fchmod(fd, mode) == 0;
    std::size_t done = 0;
    while (ok && done < text.size()) {
        const auto wrote = ::write(fd, text.data() + done, text.size() - done);
        if (wrote < 0 && errno == EINTR) continue;
        ok = wrote > 0;
        if (ok) done += static_cast<std::size_t>(wrote);
    }
    ok = ok && ::fsync(fd) == 0;
    const int error = errno;
    ::close(fd);
    if (!ok) {
        ::unlink(path.c_str());
        throw std::runtime_error("cannot write " + path + ": " + std::strerror(error));
    }
}
}  // namespace

std::string write_keypair(const std::string& path, const std::string& comment, bool overwrite) {
    const auto keys = transport::generate_curve_keypair();
    const std::string note = comment.empty() ? std::string() : " " + comment;
    write_file(path,
               "# zpartisan CurveZMQ secret key" + note + ": keep it to this node (mode 0600); its public key is in " +
                   path + ".pub\n" + keys.secret_key + "\n",
               S_IRUSR | S_IWUSR, overwrite);
    try {
        write_file(
            path + ".pub",
            "# zpartisan CurveZMQ public key" + note + ": add it to the allow lists\n" + keys.public_key + note + "\n",
            S_IRUSR | S_IWUSR | S_IRGRP | S_IROTH, overwrite);
    } catch (...) {
        ::unlink(path.c_str());
        throw;
    }
    return keys.public_key;
}

}  // namespace zpartisan::cli
