// The library's own version, compiled in here so a program asks the library it runs with.
#include "zpartisan/version.hpp"

namespace zpartisan {

std::string_view version() noexcept { return ZPARTISAN_VERSION_STRING; }

}  // namespace zpartisan
