// The library's version is the project's (CMakeLists.txt), at compile time and at run time.
#include <catch2/catch.hpp>

#include <string>

#include "zpartisan/version.hpp"

TEST_CASE("version() and the version macros are the project's version") {
    CHECK(zpartisan::version() == ZPARTISAN_PROJECT_VERSION);
    CHECK(std::string(ZPARTISAN_VERSION_STRING) == ZPARTISAN_PROJECT_VERSION);
    CHECK(std::to_string(ZPARTISAN_VERSION_MAJOR) + "." + std::to_string(ZPARTISAN_VERSION_MINOR) + "." +
              std::to_string(ZPARTISAN_VERSION_PATCH) ==
          ZPARTISAN_PROJECT_VERSION);
}
