// reactor: the node's state on disk (data_dir): read at start, where it also chooses the
// incarnation, and written after membership changes, coalesced (persist_coalesce_ms).
#include <spdlog/spdlog.h>

#include "runtime/reactor.hpp"

namespace zpartisan::runtime {

namespace {

std::uint64_t choose_incarnation(const config& cfg) {
    if (cfg.incarnation != 0) return cfg.incarnation;
    // Microseconds since the epoch grow across restarts without any stored state.
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
}

}  // namespace

std::optional<core::membership_state> reactor::restore_and_choose_incarnation() {
    std::optional<core::membership_state> restored;
    std::uint64_t incarnation = choose_incarnation(_config);
    if (!_config.data_dir.empty()) {
        _store.emplace(_config.data_dir);
        auto loaded = _store->load();
        if (auto* node = std::get_if<persisted_node>(&loaded)) {
            if (_config.incarnation == 0) incarnation = std::max(incarnation, node->incarnation + 1);
            restored = std::move(node->state);
            spdlog::info("[{}] restored membership from {}", _config.name, _store->path());
        } else if (auto* corrupt = std::get_if<corrupt_state>(&loaded)) {
            spdlog::warn("[{}] state file {} is unusable ({}); moved aside, starting fresh", _config.name,
                         _store->path(), corrupt->reason);
            _store->quarantine();
        }
    }
    _advertised_self.incarnation = incarnation;
    return restored;
}

void reactor::persist_if_due(bool force) {
    if (!_store || !_persist_dirty || !_core->running()) return;
    const auto now = now_ms();
    if (!force && now < _last_persist_ms + persist_coalesce_ms) return;
    std::string why;
    _last_persist_ms = now;
    if (_store->save({_core->self().incarnation, _core->membership().state()}, &why)) {
        count("state_writes");
        _persist_dirty = false;
    } else {
        // Stays dirty: retried after the coalescing interval (e.g. once the disk has room).
        count("state_write_failures");
        spdlog::error("[{}] cannot persist membership: {}", _config.name, why);
    }
}

}  // namespace zpartisan::runtime
