// Reading a control request (docs/control.md) before anything runs: every field's type and
// range is checked, a number is never converted out of range, and no request, however deep
// its JSON, is copied recursively (a stack overflow would end the daemon).
#include <catch2/catch.hpp>

#include <string>
#include <variant>

#include "control/control_request.hpp"

using namespace zpartisan::control;

namespace {

control_request accepted(const std::string& text) {
    auto parsed = parse_control_request(text);
    if (const auto* why = std::get_if<std::string>(&parsed)) FAIL("refused: " << *why);
    return std::get<control_request>(std::move(parsed));
}

std::string refusal(const std::string& text) {
    const auto parsed = parse_control_request(text);
    REQUIRE(std::holds_alternative<std::string>(parsed));
    return std::get<std::string>(parsed);
}

}  // namespace

TEST_CASE("control requests are read into their fields", "[control_request]") {
    const auto forward =
        accepted(R"({"cmd":"forward","node":"c2","payload_base64":"AP8=","ack":true,"timeout_ms":700})");
    CHECK(forward.command == control_command::forward);
    CHECK(forward.node == "c2");
    CHECK(forward.handler == "inbox");
    CHECK(forward.payload == std::string("\x00\xff", 2));
    CHECK(forward.ack);
    CHECK(forward.wait_ms == 700);
    CHECK(accepted(R"({"cmd":"join","endpoint":"tcp://10.0.0.1:7000"})").wait_ms == default_join_wait_ms);
    const auto cut = accepted(R"({"cmd":"partition","ttl":4294967295})");
    CHECK_FALSE(cut.by_groups);
    CHECK_FALSE(cut.origin);
    CHECK(cut.ttl == 4294967295u);
    CHECK(accepted(R"({"cmd":"partition","groups":[["a"],["b","c"]]})").groups ==
          std::vector<std::vector<std::string>>{{"a"}, {"b", "c"}});
    CHECK(refusal(R"({"cmd":"nope"})") == "unknown command 'nope'");
    CHECK(refusal("[1]") == "a request is a JSON object");
}

TEST_CASE("numbers out of a field's range are refused, never converted", "[control_request]") {
    // A float out of an integer's range does not convert at all (undefined behaviour); a
    // negative ttl must not wrap to four billion hops.
    for (const char* text : {R"({"cmd":"partition","ttl":1e300})", R"({"cmd":"partition","ttl":-1})",
                             R"({"cmd":"partition","ttl":4294967296})", R"({"cmd":"partition","ttl":1.5})",
                             R"({"cmd":"join","endpoint":"tcp://a:1","timeout_ms":1e30})",
                             R"({"cmd":"join","endpoint":"tcp://a:1","timeout_ms":0})",
                             R"({"cmd":"forward","node":"c","ack":true,"timeout_ms":18446744073709551615})",
                             R"({"cmd":"forward","node":"c","ack":1})", R"({"cmd":"send","node":"c","payload":7})",
                             R"({"cmd":"partition","groups":[["a",7]]})", R"({"cmd":"heal","ref":null})"}) {
        CAPTURE(text);
        CHECK_THAT(refusal(text), Catch::StartsWith("bad request: "));
    }
}

TEST_CASE("a request nested a million deep is read without recursion", "[control_request]") {
    const std::string nested = std::string(1'000'000, '[') + std::string(1'000'000, ']');
    CHECK(accepted(R"({"cmd":"update_members","specs":)" + nested + "}").specs.is_array());
    CHECK(accepted(R"({"cmd":"status","extra":)" + nested + "}").command == control_command::status);
}
