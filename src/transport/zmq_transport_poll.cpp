// zmq_transport: the poll. One epoll set watches the wake-up pipe and every socket's
// descriptor; ZeroMQ's descriptors are edge-triggered and a send can consume the signal of a
// message that just arrived, so sockets used since the last poll, and new ones, are looked at
// again (rechecked) before the wait, and a socket is drained in bounded batches.
#include <cerrno>
#include <cstring>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <zmq.hpp>

#include "transport/zmq_transport.hpp"

namespace zpartisan::transport {

void zmq_transport::mark_used(zmq::socket_t& socket) {
    _used_since_full_recheck = true;
    if (_used_since_poll.empty() || _used_since_poll.back() != socket.handle())
        _used_since_poll.push_back(socket.handle());
}

void zmq_transport::queue_recheck(std::size_t index) {
    auto& source = _poll_sources[index];
    if (source.recheck || !source.socket) return;
    source.recheck = true;
    _to_recheck.push_back(index);
}

void zmq_transport::mark_ready(std::size_t index) {
    if (_poll_sources[index].ready) return;
    _poll_sources[index].ready = true;
    _ready.push_back(index);
}

void zmq_transport::rebuild_poll_items() {
    _used_since_full_recheck = true;  // new sockets: their signals were never read
    if (_epoll_fd >= 0) ::close(_epoll_fd);
    _epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (_epoll_fd < 0) throw transport_error(std::string("epoll_create1 failed: ") + std::strerror(errno));
    // Kept across rebuilds (a dial or hang-up elsewhere), so a socket's send goes on being
    // followed by a look at what it may have received meanwhile.
    std::unordered_set<void*> received_before;
    for (const auto& source : _poll_sources)
        if (source.socket && source.received_any) received_before.insert(source.socket->handle());
    _poll_sources.clear();
    _source_of_socket.clear();
    _used_since_poll.clear();
    _to_recheck.clear();
    _ready.clear();
    auto watch = [&](int fd) {
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.u64 = _poll_sources.size();
        if (epoll_ctl(_epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0)
            throw transport_error(std::string("epoll_ctl failed: ") + std::strerror(errno));
    };
    watch(_wakeup->fd());
    _poll_sources.push_back({poll_source::kind::wakeup});
    auto add = [&](zmq::socket_t* socket, poll_source source, bool expects_replies = false) {
        watch(socket->get(zmq::sockopt::fd));
        source.socket = socket;
        source.received_any = expects_replies || received_before.contains(socket->handle());
        _source_of_socket.emplace(socket->handle(), _poll_sources.size());
        _poll_sources.push_back(source);
        queue_recheck(_poll_sources.size() - 1);  // a new socket may hold messages already
    };
    add(_router.get(), {poll_source::kind::router});
    add(_sub.get(), {poll_source::kind::sub});
    // A send can consume the descriptor signal of a message that just arrived, even the
    // first one: sockets that will be answered are looked at after their sends from the
    // start (a dialed control connection always is; a client's lanes carry what its server
    // sends it; a server's lanes to another server carry nothing back).
    for (auto& [endpoint, dealer] : _dealers) add(dealer.get(), {poll_source::kind::dealer, nullptr, &endpoint}, true);
    const bool lanes_answered = _options.node_role == role::client;
    for (auto& [endpoint, channels] : _lanes)
        for (auto& [channel, sockets] : channels)
            for (auto& lane : sockets) add(lane.get(), {poll_source::kind::lane, nullptr, &endpoint}, lanes_answered);
    for (const auto& m : _monitors) add(m->events.get(), {poll_source::kind::monitor, nullptr, nullptr, m.get()});
    _epoll_events.resize(_poll_sources.size());
    _poll_dirty = false;
}

namespace {
// Receives one part without blocking into message; false when nothing is waiting.
bool receive_part(zmq::socket_t& socket, void* native, bool& more) {
    auto* msg = static_cast<zmq_msg_t*>(native);
    if (zmq_msg_recv(msg, socket.handle(), ZMQ_DONTWAIT) < 0) {
        if (zmq_errno() == EAGAIN || zmq_errno() == EINTR) return false;
        throw zmq::error_t();
    }
    more = zmq_msg_more(msg) != 0;
    return true;
}

bool readable(zmq::socket_t& socket) { return (socket.get(zmq::sockopt::events) & ZMQ_POLLIN) != 0; }
}  // namespace

bool zmq_transport::drain_source(poll_source& source, std::vector<inbound>& out, std::size_t batch_max) {
    _used_since_full_recheck = true;
    frame first, second, extra;
    // A message of `parts` parts: the last part lands in `into`, a leading one in `first`.
    // Anything else is a shape we do not speak: drained and counted.
    auto receive = [&](zmq::socket_t& socket, std::size_t parts, frame& into) -> int {
        bool more = false;
        frame& head = parts == 2 ? first : into;
        if (!receive_part(socket, head.native(), more)) return 0;
        std::size_t got = 1;
        if (parts == 2 && more) {
            if (!receive_part(socket, into.native(), more)) return -1;
            ++got;
        }
        while (more) {  // extra parts
            if (!receive_part(socket, extra.native(), more)) break;
            ++got;
        }
        if (got != parts) {
            ++_malformed_frames;
            return -1;
        }
        return 1;
    };
    const std::size_t limit = source.expect_one ? 1 : batch_max;
    switch (source.what) {
        case poll_source::kind::wakeup:
            return true;
        case poll_source::kind::router:
            for (std::size_t n = 0; n < limit; ++n) {
                const int got = receive(*_router, 2, second);
                if (got == 0) return true;
                if (got < 0) continue;
                if (second.size() == 0) {  // a connection's announcement (ZMQ_PROBE_ROUTER)
                    connection_announced(first.view());
                    continue;
                }
                auto sender = first.view();
                if (auto bar = sender.find('|'); bar != std::string_view::npos)
                    sender = sender.substr(0, bar);  // a data lane
                out.push_back({{core::link::kind::accepted, std::string(sender)}, std::move(second)});
            }
            return false;
        case poll_source::kind::sub:
            for (std::size_t n = 0; n < limit; ++n) {
                const int got = receive(*_sub, 2, second);
                if (got == 0) return true;
                if (got < 0) continue;
                out.push_back({{core::link::kind::subscribed, ""}, std::move(second)});
            }
            return false;
        case poll_source::kind::dealer:
        case poll_source::kind::lane:
            for (std::size_t n = 0; n < limit; ++n) {
                const int got = receive(*source.socket, 1, second);
                if (got == 0) return true;
                if (got < 0) continue;
                out.push_back({{core::link::kind::dialed, *source.endpoint}, std::move(second)});
            }
            return false;
        case poll_source::kind::monitor:
            drain_monitor(*source.of_monitor, out);
            return true;
    }
    return true;
}

void zmq_transport::recover_from_poll_error(const zmq::error_t& error) {
    // Interrupted midway: every socket is looked at again next time.
    for (auto& source : _poll_sources) source.ready = source.recheck = false;
    _ready.clear();
    _to_recheck.clear();
    for (std::size_t i = 0; i < _poll_sources.size(); ++i) queue_recheck(i);
    if (error.num() != EINTR) throw transport_error(std::string("poll failed: ") + error.what());
}

void zmq_transport::queue_rechecks_of_used_sockets() {
    for (auto* handle : _used_since_poll)
        if (auto it = _source_of_socket.find(handle); it != _source_of_socket.end())
            if (_poll_sources[it->second].received_any) queue_recheck(it->second);
    _used_since_poll.clear();
}

bool zmq_transport::read_queued_rechecks() {
    try {
        for (const auto index : _to_recheck) {
            auto& source = _poll_sources[index];
            source.recheck = false;
            if (!source.socket) continue;  // closed since it was queued
            const bool more = readable(*source.socket);
            if (more) mark_ready(index);
            // One message taken and more behind it: a stream, drained whole again.
            if (source.cut_short && more) source.expect_one = false;
            source.cut_short = false;
        }
        _to_recheck.clear();
        return !_ready.empty();
    } catch (const zmq::error_t& e) {
        recover_from_poll_error(e);
        return true;  // interrupted: look again rather than sleep
    }
}

int zmq_transport::prepare_wait(std::optional<std::chrono::milliseconds> timeout) {
    if (!_redials.empty() || !_resubscriptions.empty()) retry_refused_connections();
    if (_poll_dirty) rebuild_poll_items();
    const auto now = std::chrono::steady_clock::now();
    if (_used_since_full_recheck && now >= _next_full_recheck) {
        for (std::size_t i = 0; i < _poll_sources.size(); ++i) queue_recheck(i);
        _next_full_recheck = now + full_recheck_period;
        _used_since_full_recheck = false;
    }
    queue_rechecks_of_used_sockets();
    if (read_queued_rechecks()) return 0;
    // Our own deadlines cut the wait short: the next full recheck (only after the sockets were
    // used: an untouched socket's descriptor signals what arrives), a refused dial's retry.
    std::optional<std::chrono::steady_clock::time_point> due;
    const auto lower = [&](std::chrono::steady_clock::time_point at) {
        if (!due || at < *due) due = at;
    };
    if (_used_since_full_recheck) lower(_next_full_recheck);
    for (const auto& [endpoint, at] : _redials) lower(at);
    for (const auto& [endpoint, at] : _resubscriptions) lower(at);
    if (!due) return timeout ? static_cast<int>(timeout->count()) : -1;
    const auto left = std::max<std::int64_t>(0, std::chrono::ceil<std::chrono::milliseconds>(*due - now).count());
    return static_cast<int>(timeout ? std::min<std::int64_t>(left, timeout->count())
                                    : std::min<std::int64_t>(left, INT32_MAX));
}

bool zmq_transport::settle_after_foreign_sends() {
    // Sockets came or went since the last prepare_wait (a leader can leave its turn to run
    // handlers without another poll): the tables may name closed sockets. The next
    // prepare_wait rebuilds them and looks at every socket, so the reactor just has to wake.
    if (_poll_dirty) return true;
    queue_rechecks_of_used_sockets();
    return read_queued_rechecks();
}

int zmq_transport::wait_for_input(int timeout_ms) noexcept {
    const int fired = epoll_wait(_epoll_fd, _epoll_events.data(), static_cast<int>(_epoll_events.size()), timeout_ms);
    if (fired >= 0) return fired;
    return errno == EINTR ? 0 : -errno;
}

bool zmq_transport::collect(int fired, std::vector<inbound>& out, std::size_t batch_max) {
    if (fired < 0) throw transport_error(std::string("epoll_wait failed: ") + std::strerror(-fired));
    try {
        bool woken = false;
        for (int n = 0; n < fired; ++n) {
            const auto index = static_cast<std::size_t>(_epoll_events[n].data.u64);
            auto& source = _poll_sources[index];
            if (source.what == poll_source::kind::wakeup) {
                _wakeup->drain();
                woken = true;
            } else if (source.socket && !source.ready && readable(*source.socket)) {
                mark_ready(index);
            }
        }
        std::sort(_ready.begin(), _ready.end());  // drained in a fixed order: router, sub, dealers...
        for (const auto index : _ready) {
            auto& source = _poll_sources[index];
            source.ready = false;
            if (!source.socket) continue;  // closed since it was found readable
            const auto before = out.size();
            const bool emptied = drain_source(source, out, batch_max);
            const auto received = out.size() - before;
            if (received > 0) source.received_any = true;
            if (!emptied) {
                source.cut_short = source.expect_one;
                queue_recheck(index);  // more may be waiting
            } else if (received > 0) {
                source.expect_one = received == 1;
            }
        }
        _ready.clear();
        return woken;
    } catch (const zmq::error_t& e) {
        recover_from_poll_error(e);
        return false;
    }
}

}  // namespace zpartisan::transport
