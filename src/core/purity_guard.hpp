// Force-included into the pure layers (core, wire). Poisoning libzmq's entry points makes
// an accidental #include <zmq.h> / <zmq.hpp> there fail to compile: I/O lives at the edge.
#pragma once
#pragma GCC poison zmq_ctx_new zmq_socket zmq_poll zmq_msg_send zmq_msg_recv
