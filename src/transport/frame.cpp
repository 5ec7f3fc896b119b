#include "transport/frame.hpp"

#include <zmq.h>

#include <atomic>
#include <cstring>
#include <new>

namespace zpartisan::transport {

static_assert(sizeof(zmq_msg_t) <= 64 && alignof(zmq_msg_t) <= 8, "frame's storage must hold a zmq_msg_t");

namespace {
// A large buffer handed to ZeroMQ without a copy (see frame(std::string&&)).
struct adopted_bytes {
    std::string bytes;
    std::atomic<bool> handed_over;
};

zmq_msg_t* msg(void* storage) { return static_cast<zmq_msg_t*>(storage); }
const zmq_msg_t* msg(const void* storage) { return static_cast<const zmq_msg_t*>(storage); }
}  // namespace

frame::frame() noexcept { zmq_msg_init(msg(_storage)); }

frame::frame(std::size_t size) {
    if (zmq_msg_init_size(msg(_storage), size) != 0) throw std::bad_alloc();
}

frame::frame(std::string_view bytes) : frame(bytes.size()) {
    if (!bytes.empty()) std::memcpy(data(), bytes.data(), bytes.size());
}

frame::frame(std::string&& bytes) {
    // Below this a copy costs less than a second allocation for ZeroMQ's shared content.
    constexpr std::size_t adopt_from_bytes = 1024;
    if (bytes.size() < adopt_from_bytes) {
        if (zmq_msg_init_size(msg(_storage), bytes.size()) != 0) throw std::bad_alloc();
        if (!bytes.empty()) std::memcpy(data(), bytes.data(), bytes.size());
        return;
    }
    // ZeroMQ calls release once it is done with the bytes, from its I/O thread: the buffer is
    // made on this thread and freed on that one. ZeroMQ's queue between them orders the two
    // with atomics ThreadSanitizer cannot see (libzmq is not instrumented); this release store
    // and acquire load state the same order in our own code, where it can.
    auto* owned = new adopted_bytes{std::move(bytes), {}};
    // Our last touch of the buffer comes before the release store.
    void* const data = owned->bytes.data();
    const auto size = owned->bytes.size();
    owned->handed_over.store(true, std::memory_order_release);
    auto release = [](void*, void* hint) {
        auto* adopted = static_cast<adopted_bytes*>(hint);
        (void)adopted->handed_over.load(std::memory_order_acquire);
        delete adopted;
    };
    if (zmq_msg_init_data(msg(_storage), data, size, release, owned) != 0) {
        delete owned;
        throw std::bad_alloc();
    }
}

frame::frame(frame&& other) noexcept {
    zmq_msg_init(msg(_storage));
    zmq_msg_move(msg(_storage), msg(other._storage));
}

frame& frame::operator=(frame&& other) noexcept {
    if (this != &other) zmq_msg_move(msg(_storage), msg(other._storage));  // closes ours first
    return *this;
}

frame::~frame() { zmq_msg_close(msg(_storage)); }

char* frame::data() noexcept { return static_cast<char*>(zmq_msg_data(msg(_storage))); }

const char* frame::data() const noexcept {
    // zmq_msg_data does not modify the message; the C API just lacks const.
    return static_cast<const char*>(zmq_msg_data(const_cast<zmq_msg_t*>(msg(_storage))));
}

std::size_t frame::size() const noexcept { return zmq_msg_size(msg(_storage)); }

}  // namespace zpartisan::transport
