// What the transport throws when a socket cannot be made, bound or polled: a node cannot run
// on without it. Never thrown for what a peer sent.
#pragma once

#include <stdexcept>

namespace zpartisan::transport {

class transport_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace zpartisan::transport
