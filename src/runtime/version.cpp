// The library's own version, compiled in here so a program asks the library it runs with.
#include "zpartisan/version.hpp"

#include "core/protocol_version.hpp"

namespace zpartisan {

std::string_view version() noexcept { return ZPARTISAN_VERSION_STRING; }

std::uint32_t protocol_version() noexcept { return core::protocol_version; }

}  // namespace zpartisan
