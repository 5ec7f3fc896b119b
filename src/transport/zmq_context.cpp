#include "transport/zmq_context.hpp"

#include <mutex>
#include <zmq.hpp>

namespace zpartisan::transport {

namespace {
std::mutex shared_mutex;
bool sharing = false;
// Weak: the context ends with its last owner (a context outliving its sockets' owners would
// be terminated during static destruction, after the rest of the process is gone).
std::weak_ptr<zmq::context_t> shared;
}  // namespace

void share_one_context() {
    std::lock_guard lock(shared_mutex);
    sharing = true;
}

std::shared_ptr<zmq::context_t> context_for_sockets() {
    std::lock_guard lock(shared_mutex);
    if (!sharing) return std::make_shared<zmq::context_t>(1);
    auto context = shared.lock();
    if (!context) {
        context = std::make_shared<zmq::context_t>(1);
        shared = context;
    }
    return context;
}

}  // namespace zpartisan::transport
