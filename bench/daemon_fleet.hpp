// Real zpartisan-node processes for a bench: spawned into one process group that goes down with
// the bench (on return, on an exception, on SIGINT/SIGTERM, and on the bench's own death), each
// logging to WORK/NAME.log, and what /proc says about each one. Never kills anything it did not start.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace zpartisan::bench {

// One process as /proc tells it.
struct process_sample {
    std::uint64_t cpu_ticks = 0;  // utime + stime, in clock ticks (sysconf(_SC_CLK_TCK))
    std::uint64_t rss_kib = 0;    // VmRSS
    int threads = 0;
};

// Raises this process's soft RLIMIT_NOFILE to its hard limit (the daemons inherit it);
// returns the limit now in force.
std::uint64_t raise_open_file_limit();

// The zpartisan-node beside this binary: in its directory, or one up (the build tree).
std::string default_node_binary();

class daemon_fleet {
public:
    // Creates work_dir's logs there; throws std::runtime_error when node_binary cannot run.
    daemon_fleet(std::string node_binary, std::string work_dir);
    ~daemon_fleet();
    daemon_fleet(const daemon_fleet&) = delete;
    daemon_fleet& operator=(const daemon_fleet&) = delete;

    // Starts NAME with these flags; throws std::runtime_error when fork fails.
    pid_t start(const std::string& name, const std::vector<std::string>& flags);
    // The daemons that exited since they started (reaped here), with their exit status.
    std::map<std::string, int> exited();
    // SIGKILL to every daemon started, then reaps them (bounded: a few seconds).
    void kill_all();

    [[nodiscard]] const std::map<std::string, pid_t>& running() const { return _pids; }
    [[nodiscard]] const std::string& work_dir() const { return _work_dir; }

private:
    std::string _node_binary;
    std::string _work_dir;
    std::map<std::string, pid_t> _pids;  // started and not yet reaped
    std::map<std::string, int> _exit_status;
    pid_t _group = 0;  // the first daemon's pid, the group every later one joins
};

// utime + stime, VmRSS and threads of a live process; nullopt when it is gone.
std::optional<process_sample> sample_process(pid_t pid);

}  // namespace zpartisan::bench
