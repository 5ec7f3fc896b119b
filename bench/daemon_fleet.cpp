#include "daemon_fleet.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace zpartisan::bench {

namespace {

// The live fleet's process group, for the signal handler: a Ctrl-C takes the daemons with it.
std::atomic<pid_t> live_group{0};

extern "C" void kill_group_and_exit(int signal) {
    if (const pid_t group = live_group.load(); group > 0) ::kill(-group, SIGKILL);
    ::_exit(128 + signal);
}

void install_signal_handlers() {
    struct sigaction action {};
    action.sa_handler = kill_group_and_exit;
    sigemptyset(&action.sa_mask);
    for (const int signal : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(signal, &action, nullptr);
}

// In the child, between fork and exec: only async-signal-safe calls.
[[noreturn]] void exec_daemon(const std::string& binary, const std::vector<std::string>& argv_text,
                              const std::string& log, pid_t group, pid_t parent) {
    ::setpgid(0, group);                      // 0: this child leads a new group
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);       // the bench gone (even by SIGKILL): so are its daemons
    if (::getppid() != parent) ::_exit(127);  // it went before the line above took hold
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int in = ::open("/dev/null", O_RDONLY);
    if (out < 0 || in < 0) ::_exit(127);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::syscall(SYS_close_range, 3U, ~0U, 0U);  // none of the bench's sockets
    std::vector<char*> argv;
    argv.reserve(argv_text.size() + 1);
    for (const auto& arg : argv_text) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
}

std::string file_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

std::uint64_t raise_open_file_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        (void)::setrlimit(RLIMIT_NOFILE, &limit);
        (void)::getrlimit(RLIMIT_NOFILE, &limit);
    }
    return limit.rlim_cur;
}

std::string default_node_binary() {
    const auto self = std::filesystem::read_symlink("/proc/self/exe").parent_path();
    for (const auto& dir : {self, self.parent_path()})
        if (std::filesystem::exists(dir / "zpartisan-node")) return (dir / "zpartisan-node").string();
    return (self / "zpartisan-node").string();
}

daemon_fleet::daemon_fleet(std::string node_binary, std::string work_dir)
    : _node_binary(std::move(node_binary)), _work_dir(std::move(work_dir)) {
    if (::access(_node_binary.c_str(), X_OK) != 0)
        throw std::runtime_error("cannot run the node binary " + _node_binary + " (give --node-binary)");
    std::filesystem::create_directories(_work_dir);
    install_signal_handlers();
}

daemon_fleet::~daemon_fleet() { kill_all(); }

pid_t daemon_fleet::start(const std::string& name, const std::vector<std::string>& flags) {
    std::vector<std::string> argv{_node_binary};
    argv.insert(argv.end(), flags.begin(), flags.end());
    const auto log = _work_dir + "/" + name + ".log";
    const pid_t parent = ::getpid();
    const pid_t child = ::fork();
    if (child < 0)
        throw std::runtime_error("fork failed starting " + name + " (" + std::to_string(_pids.size()) + " running)");
    if (child == 0) exec_daemon(_node_binary, argv, log, _group, parent);
    // Also here, so the group exists before the next fork whichever process runs first.
    if (::setpgid(child, _group == 0 ? child : _group) != 0 && _group != 0) {
        // The group emptied (all its daemons exited): this one leads a new one.
        (void)::setpgid(child, child);
        _group = child;
    }
    if (_group == 0) _group = child;
    live_group = _group;
    _pids[name] = child;
    return child;
}

std::map<std::string, int> daemon_fleet::exited() {
    for (auto it = _pids.begin(); it != _pids.end();) {
        int status = 0;
        if (::waitpid(it->second, &status, WNOHANG) == it->second) {
            _exit_status[it->first] = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            it = _pids.erase(it);
        } else {
            ++it;
        }
    }
    return _exit_status;
}

void daemon_fleet::kill_all() {
    if (_group > 0) ::kill(-_group, SIGKILL);
    for (const auto& [name, pid] : _pids) ::kill(pid, SIGKILL);  // any outside the group
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!_pids.empty() && std::chrono::steady_clock::now() < deadline) {
        (void)exited();
        if (!_pids.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    live_group = 0;
    _group = 0;
}

std::optional<process_sample> sample_process(pid_t pid) {
    const auto stat = file_text("/proc/" + std::to_string(pid) + "/stat");
    const auto status = file_text("/proc/" + std::to_string(pid) + "/status");
    // The command name (field 2) may hold spaces: fields are counted after its ')'.
    const auto close = stat.rfind(')');
    if (close == std::string::npos || status.empty()) return std::nullopt;
    std::istringstream fields(stat.substr(close + 2));
    std::string field;
    process_sample sample;
    for (int index = 3; fields >> field && index <= 15; ++index) {
        if (index == 3 && field == "Z") return std::nullopt;  // exited, not yet reaped
        if (index == 14 || index == 15) sample.cpu_ticks += std::stoull(field);
    }
    std::istringstream lines(status);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("VmRSS:", 0) == 0) sample.rss_kib = std::stoull(line.substr(6));
        if (line.rfind("Threads:", 0) == 0) sample.threads = std::stoi(line.substr(8));
    }
    return sample;
}

}  // namespace zpartisan::bench
