// reactor: carrying out the core's effects, in the order the core emitted them (sends and
// publishes, dials and hang-ups, deliveries to the handlers' queue, reports and events to the
// callback thread, notices to the rate-limited log), and sending one frame, which hands a data
// frame that meets a full hop to flow control (reactor_stalled.cpp).
#include <random>

#include <spdlog/spdlog.h>

#include "runtime/outgoing_frames.hpp"
#include "runtime/reactor.hpp"
#include "wire/codec.hpp"

namespace zpartisan::runtime {

void reactor::log_about_peer(core::effect::notice::level severity, std::string_view reason, std::string_view peer,
                             const std::string& text) {
    const auto verdict = _peer_lines.admit(reason, peer, now_ms());
    if (!verdict.log) return;
    const auto suppressed = verdict.suppressed_before == 0
                                ? std::string()
                                : " (" + std::to_string(verdict.suppressed_before) + " more like it suppressed)";
    switch (severity) {
        case core::effect::notice::level::debug:
            spdlog::debug("[{}] {}{}", _config.name, text, suppressed);
            break;
        case core::effect::notice::level::info:
            spdlog::info("[{}] {}{}", _config.name, text, suppressed);
            break;
        case core::effect::notice::level::warn:
            spdlog::warn("[{}] {}{}", _config.name, text, suppressed);
            break;
    }
}

void reactor::send_frame(const core::link& to, transport::frame& frame, std::string_view channel, std::uint32_t lane,
                         bool data, core::message_type type) {
    if (data && !_flow.empty()) {
        // Routes may have moved since the frames waiting now were stalled (a hello just
        // handled in this batch, say): they take their new routes before this frame goes on
        // one, and it keeps its order behind what already waits for its hop.
        follow_routes();
        if (_flow.holds(to)) {
            stall(to, std::move(frame), channel, lane);
            return;
        }
    }
    const auto bytes = frame.size();
    const auto status = _transport->send(to, frame, channel, lane);
    if (status == transport::send_status::ok) {
        _bytes_sent += bytes;
        ++(data ? _messages_out : _control_messages_out);
        return;
    }
    // A full hop, or a lane not connected yet: flow control decides how long it waits.
    if (data && (status == transport::send_status::congested || status == transport::send_status::lane_not_connected)) {
        stall(to, std::move(frame), channel, lane);
        return;
    }
    if (status == transport::send_status::unreachable) _core->on_peer_gone(to, now_ms());
    count(std::string("send_") + describe(status));
    spdlog::debug("[{}] {} to '{}' not sent: {}", _config.name, core::name_of(type), core::log_text(to.id),
                  describe(status));
}

void reactor::apply_output() {
    // Applying effects can feed the core again (a vanished peer), hence the outer loop.
    while (_core->has_output()) apply_effects(_core->take_output());
}

void reactor::apply_effects(std::vector<core::output_effect> effects) {
    for (auto& out : effects) {
        std::visit(
            [&](auto& e) {
                using T = std::decay_t<decltype(e)>;
                if constexpr (std::is_same_v<T, core::effect::send>) {
                    const auto* data = std::get_if<core::forward>(&e.msg);
                    auto frame = frame_of(e.msg);
                    if (data)
                        send_frame(e.to, frame, data->channel, data->lane, true, core::message_type::forward);
                    else
                        send_frame(e.to, frame, {}, 0, false, core::type_of(e.msg));
                } else if constexpr (std::is_same_v<T, core::effect::publish>) {
                    if (_publish_loss_ratio > 0 &&
                        std::uniform_real_distribution<>(0, 1)(_fault_rng) < _publish_loss_ratio) {
                        count("publish_dropped_by_fault_injection");
                        return;
                    }
                    const auto frame = wire::encode(e.msg);
                    const auto status = _transport->publish(e.to, frame);
                    if (status == transport::send_status::ok) _counters["bytes_published"] += frame.size() + 1;
                    if (status != transport::send_status::ok) count(std::string("publish_") + describe(status));
                } else if constexpr (std::is_same_v<T, core::effect::dial>) {
                    try {
                        _transport->dial(e.router_endpoint, e.server_key);
                    } catch (const transport::transport_error& error) {
                        // The peer stays unreachable from here (sends say so); the node goes on.
                        count("dials_failed");
                        spdlog::error("[{}] {}", _config.name, error.what());
                    }
                } else if constexpr (std::is_same_v<T, core::effect::hang_up>) {
                    _transport->hang_up(e.router_endpoint);
                } else if constexpr (std::is_same_v<T, core::effect::subscribe>) {
                    try {
                        _transport->subscribe(e.pub_endpoint, e.server_key);
                    } catch (const transport::transport_error& error) {
                        count("subscriptions_failed");
                        spdlog::error("[{}] {}", _config.name, error.what());
                    }
                } else if constexpr (std::is_same_v<T, core::effect::unsubscribe>) {
                    _transport->unsubscribe(e.pub_endpoint);
                } else if constexpr (std::is_same_v<T, core::effect::deliver>) {
                    auto& m = e.msg;
                    _messages->post(inbound_message{std::move(m.origin), std::move(m.handler),
                                                    static_cast<message_kind>(static_cast<int>(m.kind) - 1),
                                                    std::move(m.channel), std::move(m.payload), std::move(m.reply_to)},
                                    m.bundled, m.ack);
                } else if constexpr (std::is_same_v<T, core::effect::delivery_report>) {
                    if (!e.delivered) count("deliveries_failed_" + e.reason);
                    auto callback = _report_callbacks.find(e.id);
                    if (callback != _report_callbacks.end()) {
                        _events->post_task(
                            [fn = std::move(callback->second),
                             report = delivery_report{e.destination, e.delivered, e.reason}] { fn(report); });
                        _report_callbacks.erase(callback);
                    }
                } else if constexpr (std::is_same_v<T, core::effect::partition_outcome>) {
                    answer_partition(e);
                } else if constexpr (std::is_same_v<T, core::effect::membership_changed>) {
                    count("membership_changes");
                    _persist_dirty = true;
                } else if constexpr (std::is_same_v<T, core::effect::stopped>) {
                    note_stop_reason(e.reason);
                    _service_stopped = true;
                    // Gone from the cluster: a restart must not bring it back by itself.
                    if (_store) _store->erase();
                    _transport->flush_on_close(true);  // the goodbyes just queued must go out
                    _persist_dirty = false;
                } else if constexpr (std::is_same_v<T, core::effect::reachability_changed>) {
                    count(e.up ? "events_up" : "events_down");
                    _events->post(e.node, e.up);
                } else if constexpr (std::is_same_v<T, core::effect::notice>) {
                    if (!e.reason.empty()) {
                        log_about_peer(e.severity, e.reason, e.peer, e.text);
                        return;
                    }
                    switch (e.severity) {
                        case core::effect::notice::level::debug:
                            spdlog::debug("[{}] {}", _config.name, e.text);
                            break;
                        case core::effect::notice::level::info:
                            spdlog::info("[{}] {}", _config.name, e.text);
                            break;
                        case core::effect::notice::level::warn:
                            spdlog::warn("[{}] {}", _config.name, e.text);
                            break;
                    }
                }
            },
            out);
    }
}

}  // namespace zpartisan::runtime
