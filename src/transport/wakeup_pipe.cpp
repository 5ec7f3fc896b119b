// The wake-up eventfd a poll waits on beside its sockets (the reactor's, the control endpoint's).
#include "transport/wakeup_pipe.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "transport/transport_error.hpp"

namespace zpartisan::transport {

wakeup_pipe::wakeup_pipe() : _fd(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (_fd < 0) throw transport_error(std::string("cannot create the wake-up eventfd: ") + std::strerror(errno));
}

wakeup_pipe::~wakeup_pipe() { ::close(_fd); }

void wakeup_pipe::notify() noexcept {
    // Fails only when the counter is near 2^64: the reactor is then certainly awake.
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto written = ::write(_fd, &one, sizeof one);
}

void wakeup_pipe::drain() noexcept {
    std::uint64_t pending = 0;
    [[maybe_unused]] const auto got = ::read(_fd, &pending, sizeof pending);
}

}  // namespace zpartisan::transport
