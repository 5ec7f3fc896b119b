// The control endpoint is local and private (docs/control.md, "Who may ask"): an ipc:// socket
// file only the daemon's user can open, TCP only on loopback unless said otherwise, and a
// request over the size limit answered with an error.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <string>

#include "daemon/control_endpoint_policy.hpp"
#include "control/control_channel.hpp"

using namespace zpartisan;

TEST_CASE("a TCP control endpoint must be a loopback address unless remote control is allowed", "[control][security]") {
    for (const char* local : {"tcp://127.0.0.1:7002", "tcp://127.0.0.1:*", "tcp://127.9.8.7:7002",
                              "tcp://localhost:7002", "tcp://[::1]:7002", "ipc:///tmp/zpartisan-x.ctl"}) {
        CAPTURE(local);
        CHECK_FALSE(daemon::control_endpoint_refusal(local, false));
    }
    for (const char* remote : {"tcp://0.0.0.0:7002", "tcp://*:7002", "tcp://10.0.0.5:7002", "tcp://eth0:7002",
                               "tcp://[::]:7002", "tcp://example.com:7002", "tcp://128.0.0.1:7002"}) {
        CAPTURE(remote);
        const auto refused = daemon::control_endpoint_refusal(remote, false);
        REQUIRE(refused);
        CHECK_THAT(*refused, Catch::Contains("not a loopback address") && Catch::Contains("--control-allow-remote"));
        CHECK_FALSE(daemon::control_endpoint_refusal(remote, true));
    }
    CHECK_THAT(*daemon::control_endpoint_refusal("ipc://@zpartisan", false), Catch::Contains("abstract socket"));
    CHECK_THAT(*daemon::control_endpoint_refusal("udp://127.0.0.1:1", false), Catch::Contains("must be ipc://"));
    CHECK(daemon::control_endpoint_refusal("ipc://", false));
}

TEST_CASE("an ipc control socket file is readable and writable by its owner only", "[control][security]") {
    const auto dir = std::filesystem::temp_directory_path() / ("zpartisan-ctl-mode-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto path = dir / "node.ctl";
    const auto previous = ::umask(0);  // the most permissive a caller could have set
    {
        control::control_server server("ipc://" + path.string());
        ::umask(previous);
        struct stat info {};
        REQUIRE(::stat(path.c_str(), &info) == 0);
        CHECK(S_ISSOCK(info.st_mode));
        CHECK((info.st_mode & 0777) == 0600);
        CHECK(info.st_uid == ::getuid());
    }
    ::umask(previous);
    // The process's umask is as it was: files made afterwards are not affected.
    CHECK(::umask(previous) == previous);
    std::filesystem::remove_all(dir);
}

TEST_CASE("a control request over the limit is answered with an error naming the limit", "[control][limits]") {
    control::control_server server("tcp://127.0.0.1:*", 1024);
    auto serve = std::async(std::launch::async, [&] { return server.next_request(std::chrono::seconds(3)); });
    const auto answer = control::ask(server.endpoint(), R"({"cmd":"status","pad":")" + std::string(2000, 'x') + "\"}",
                                     std::chrono::seconds(3));
    REQUIRE(answer);
    CHECK_THAT(*answer, Catch::Contains(R"("ok":false)") && Catch::Contains("over the endpoint's limit of 1024") &&
                            Catch::Contains("--control-max-request-bytes"));
    CHECK_FALSE(serve.get());  // never handed over as a request
}
