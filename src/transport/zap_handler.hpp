// The ZAP handler (ZeroMQ RFC 27) of one node's context: every CURVE handshake on a socket
// the node binds asks it, over inproc://zeromq.zap.01, whether the client's public key may
// in. It answers 200 for a key on the allow list and 400 otherwise, logging the refusal with
// the peer's address (rate-limited per peer and key). Its REP socket is bound by the
// constructor, so a node makes it before binding anything: no handshake ever finds it
// missing (libzmq would then let every client in).
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "transport/curve_keys.hpp"
#include "transport/refusal_log.hpp"

namespace zmq {
class context_t;
class socket_t;
}  // namespace zmq

namespace zpartisan::transport {

class zap_handler {
public:
    // Throws transport_error when the ZAP endpoint cannot be bound (another handler has it).
    zap_handler(zmq::context_t& context, std::string node_name, std::set<std::string> allowed);
    ~zap_handler();
    zap_handler(const zap_handler&) = delete;
    zap_handler& operator=(const zap_handler&) = delete;

    // Replaces the allow list; handshakes from now on use the new one.
    allow_list_change set_allowed(std::set<std::string> keys);
    [[nodiscard]] std::uint64_t accepted() const { return _accepted; }
    [[nodiscard]] std::uint64_t refused() const { return _refused; }

private:
    void run();
    void answer_one();

    std::string _name;
    std::unique_ptr<zmq::socket_t> _socket;
    std::mutex _mutex;  // guards _allowed
    std::set<std::string> _allowed;
    std::atomic<bool> _stop{false};
    std::atomic<std::uint64_t> _accepted{0};
    std::atomic<std::uint64_t> _refused{0};
    refusal_log _refusals;  // used by the handler's thread only
    std::thread _thread;
};

}  // namespace zpartisan::transport
