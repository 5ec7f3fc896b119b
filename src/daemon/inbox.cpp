#include "daemon/inbox.hpp"

namespace zpartisan::daemon {

namespace {
const char* kind_name(message_kind kind) {
    switch (kind) {
        case message_kind::send:
            return "send";
        case message_kind::forward:
            return "forward";
        case message_kind::cast:
            return "cast";
        case message_kind::call:
            return "call";
        case message_kind::reply:
            return "reply";
    }
    return "unknown";
}
}  // namespace

void inbox::store(const inbound_message& message) {
    const auto now =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    std::lock_guard lock(_mutex);
    _messages.push_back({message.from, kind_name(message.kind), message.payload, now});
    while (_messages.size() > _capacity) _messages.pop_front();
}

std::vector<stored_message> inbox::snapshot() const {
    std::lock_guard lock(_mutex);
    return {_messages.begin(), _messages.end()};
}

}  // namespace zpartisan::daemon
