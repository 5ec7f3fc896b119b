// Asks many daemons' control endpoints one request each, several at a time (docs/control.md: a
// DEALER sends an empty delimiter frame and the JSON request, as a REQ would), so one slow daemon
// holds up only its own answer, and every wait is bounded.
#pragma once

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>
#include <zmq.hpp>

namespace zpartisan::bench {

struct control_batch_settings {
    std::chrono::milliseconds timeout{5000};  // per group of requests in flight
    std::size_t in_flight = 64;               // sockets open at once
};

// Hands each answer to on_answer(index into endpoints, answer) as it comes (answers of 1,000
// members are large: none is kept here); returns, per endpoint, whether one came in time and parsed.
using answer_handler = std::function<void(std::size_t index, const nlohmann::json& answer)>;
std::vector<bool> ask_all(zmq::context_t& context, const std::vector<std::string>& endpoints,
                          const nlohmann::json& request, const answer_handler& on_answer,
                          const control_batch_settings& settings = {});

}  // namespace zpartisan::bench
