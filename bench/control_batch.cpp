#include "control_batch.hpp"

#include <memory>

namespace zpartisan::bench {

std::vector<bool> ask_all(zmq::context_t& context, const std::vector<std::string>& endpoints,
                          const nlohmann::json& request, const answer_handler& on_answer,
                          const control_batch_settings& settings) {
    using clock = std::chrono::steady_clock;
    std::vector<bool> answered(endpoints.size(), false);
    const auto text = request.dump();
    for (std::size_t first = 0; first < endpoints.size(); first += settings.in_flight) {
        const auto count = std::min(settings.in_flight, endpoints.size() - first);
        std::vector<std::unique_ptr<zmq::socket_t>> sockets;
        std::vector<zmq::pollitem_t> items;
        for (std::size_t i = 0; i < count; ++i) {
            auto socket = std::make_unique<zmq::socket_t>(context, zmq::socket_type::dealer);
            socket->set(zmq::sockopt::linger, 0);
            socket->connect(endpoints[first + i]);
            // A DEALER queues while it connects: the send does not wait for the daemon.
            (void)socket->send(zmq::message_t(), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
            (void)socket->send(zmq::buffer(text), zmq::send_flags::dontwait);
            items.push_back({socket->handle(), 0, ZMQ_POLLIN, 0});
            sockets.push_back(std::move(socket));
        }
        std::size_t waiting = count;
        const auto deadline = clock::now() + settings.timeout;
        while (waiting > 0 && clock::now() < deadline) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
            if (zmq::poll(items, std::max(left, std::chrono::milliseconds(1))) <= 0) continue;
            for (std::size_t i = 0; i < count; ++i) {
                if (!(items[i].revents & ZMQ_POLLIN)) continue;
                items[i].events = 0;  // one answer each: asked no more
                --waiting;
                zmq::message_t delimiter, body;
                if (!sockets[i]->recv(delimiter, zmq::recv_flags::dontwait) || !delimiter.more() ||
                    !sockets[i]->recv(body, zmq::recv_flags::dontwait))
                    continue;
                auto answer = nlohmann::json::parse(body.to_string_view(), nullptr, false);
                if (answer.is_discarded()) continue;
                answered[first + i] = true;
                on_answer(first + i, answer);
            }
        }
    }
    return answered;
}

}  // namespace zpartisan::bench
