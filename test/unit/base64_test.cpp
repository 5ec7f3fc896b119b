// The control protocol's base64: the standard test vectors, every byte value and random byte
// strings round-trip, and text that is not base64 is refused with a reason, never thrown on.
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "wire/base64.hpp"

using namespace zpartisan::wire;

TEST_CASE("base64 encodes the standard test vectors", "[base64]") {
    CHECK(base64_encode("") == "");
    CHECK(base64_encode("f") == "Zg==");
    CHECK(base64_encode("fo") == "Zm8=");
    CHECK(base64_encode("foo") == "Zm9v");
    CHECK(base64_encode("foob") == "Zm9vYg==");
    CHECK(base64_encode("fooba") == "Zm9vYmE=");
    CHECK(base64_encode("foobar") == "Zm9vYmFy");
    CHECK(base64_encode(std::string("\x00\xff\xfe", 3)) == "AP/+");
    CHECK(base64_decode("Zm9vYmE=") == std::optional<std::string>("fooba"));
    CHECK(base64_decode("AP/+") == std::optional<std::string>(std::string("\x00\xff\xfe", 3)));
}

TEST_CASE("base64 round-trips every byte value and random byte strings", "[base64]") {
    std::string all;
    for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
    CHECK(base64_decode(base64_encode(all)) == std::optional<std::string>(all));
    std::mt19937 rng(11);
    for (int i = 0; i < 500; ++i) {
        std::string bytes(rng() % 70, '\0');
        for (auto& c : bytes) c = static_cast<char>(rng());
        const auto text = base64_encode(bytes);
        CAPTURE(text);
        CHECK(text.size() % 4 == 0);
        CHECK(base64_decode(text) == std::optional<std::string>(bytes));
    }
}

TEST_CASE("text that is not base64 is refused, saying why", "[base64]") {
    const std::vector<std::string> not_base64{"Zg=",
                                              "Zg",
                                              "Z",
                                              "Zm9v\n",
                                              "Zm 9",
                                              "Zm9v====",
                                              "====",
                                              "Z===",
                                              "Zg=a",
                                              "=Zg=",
                                              "Zh==",
                                              "Zm9=",
                                              "Zm-_",
                                              std::string("Zm9\0", 4),
                                              std::string("\xff\xfe==", 4)};
    for (const auto& text : not_base64) {
        CAPTURE(text);
        std::string why;
        CHECK_FALSE(base64_decode(text, &why));
        CHECK_FALSE(why.empty());
    }
    CHECK_FALSE(base64_decode("Zg="));  // without a place for the reason
}
