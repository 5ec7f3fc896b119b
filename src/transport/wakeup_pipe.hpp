// Wakes a thread that waits on descriptors from other threads: an eventfd, so a wake-up is one
// write() without a lock and the waiter polls it as a plain descriptor. notify() may be called
// from any thread; drain() by the waiter.
#pragma once

namespace zpartisan::transport {

class wakeup_pipe {
public:
    wakeup_pipe();  // throws transport_error when no eventfd can be made
    ~wakeup_pipe();
    wakeup_pipe(const wakeup_pipe&) = delete;
    wakeup_pipe& operator=(const wakeup_pipe&) = delete;
    void notify() noexcept;
    void drain() noexcept;  // consumes every pending wake-up
    [[nodiscard]] int fd() const { return _fd; }

private:
    int _fd = -1;
};

}  // namespace zpartisan::transport
