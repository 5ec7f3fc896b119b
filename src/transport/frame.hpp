// One ZeroMQ message, owned outside the transport without exposing zmq.hpp: the bytes a
// frame arrives in travel through peeking, relaying and sending without being copied, and a
// frame encoded on an application thread is the very buffer ZeroMQ sends.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace zpartisan::transport {

class frame {
public:
    frame() noexcept;                        // empty
    explicit frame(std::size_t size);        // size bytes to write into
    explicit frame(std::string_view bytes);  // a copy of bytes
    // Takes the bytes over; a large buffer is handed to ZeroMQ as it is, without a copy.
    explicit frame(std::string&& bytes);
    frame(frame&& other) noexcept;
    frame& operator=(frame&& other) noexcept;
    frame(const frame&) = delete;
    frame& operator=(const frame&) = delete;
    ~frame();

    [[nodiscard]] char* data() noexcept;
    [[nodiscard]] const char* data() const noexcept;
    [[nodiscard]] std::size_t size() const noexcept;
    [[nodiscard]] std::string_view view() const noexcept { return {data(), size()}; }

private:
    friend class zmq_transport;
    // The zmq_msg_t itself (64 bytes in libzmq 4.x, checked where it is defined).
    [[nodiscard]] void* native() noexcept { return _storage; }
    alignas(8) unsigned char _storage[64];
};

}  // namespace zpartisan::transport
