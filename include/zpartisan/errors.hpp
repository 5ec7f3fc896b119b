/// @file
/// Error vocabulary of the public API: typed exceptions for misuse and bad configuration,
/// [[nodiscard]] results for the outcomes a caller must expect.
#pragma once

#include <stdexcept>
#include <string>

namespace zpartisan {

/// The base of every exception the library throws.
class error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A config value is out of range or malformed; the message names the field.
class config_error : public error {
public:
    using error::error;
};

/// The API was used in a way that can never work (e.g. a call on a stopped node).
class usage_error : public error {
public:
    using error::error;
};

/// The outcome of a membership operation (join, leave, update_members, reserve...).
enum class [[nodiscard]] op_status{
    ok,            ///< done
    timeout,       ///< not done before the deadline (e.g. sync_join not fully joined)
    refused,       ///< the peer refused: wrong cluster, unsupported version, missing role...
    bad_endpoint,  ///< the endpoint could not be parsed
    unknown_node,  ///< no member has that name
    stopped,       ///< the peer service is not running (left, removed or stopped)
};

/// The status's name, e.g. "refused".
[[nodiscard]] const char* to_string(op_status status);

/// What a membership operation returns: a status and, when it is not ok, why.
struct [[nodiscard]] op_result {
    op_status status = op_status::ok;
    std::string reason;  ///< human-readable: why it was not ok, or a warning an ok carries (see Node::join)

    [[nodiscard]] bool ok() const { return status == op_status::ok; }
};

/// What Node::inject_partition and Node::partition_groups return.
struct [[nodiscard]] partition_result {
    op_status status = op_status::ok;
    std::string ref;     ///< heals it: resolve_partition(ref)
    std::string reason;  ///< for anything but ok

    [[nodiscard]] bool ok() const { return status == op_status::ok; }
};

}  // namespace zpartisan
