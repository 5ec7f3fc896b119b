// Which ZeroMQ context a socket owner (a node's transport, the daemon's control endpoint) uses.
// Each context runs an I/O thread and a reaper. Several nodes in one process each get their
// own, so they do not share an I/O thread; a daemon (one process, one node) asks for a single
// context for everything, so it runs two ZeroMQ threads, not four.
#pragma once

#include <memory>

namespace zmq {
class context_t;
}

namespace zpartisan::transport {

// From now on every socket owner in this process shares one context (made on first use, kept
// while any owner holds it). Called by the daemon before it makes its node.
void share_one_context();
// The context for a new socket owner: the shared one after share_one_context(), else its own
// (one I/O thread).
std::shared_ptr<zmq::context_t> context_for_sockets();

}  // namespace zpartisan::transport
