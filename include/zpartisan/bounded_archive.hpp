/// @file
/// Reads what cereal::PortableBinaryOutputArchive wrote, refusing a size that the bytes left
/// cannot hold. cereal's containers resize to the size they read before reading their
/// elements, so with the stock archive nine forged bytes can ask for gigabytes; here a
/// container may ask for at most one element per byte left (its allocation stays within a
/// small multiple of the payload). Used by decode_payload (typed.hpp); include that instead.
#pragma once

#include <cereal/archives/portable_binary.hpp>
#include <cereal/cereal.hpp>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace zpartisan {

/// cereal's input archive for portable binary payloads, bounded by the payload's size.
class bounded_input_archive : public cereal::InputArchive<bounded_input_archive, cereal::AllowEmptyClassElision> {
public:
    explicit bounded_input_archive(std::string_view bytes)
        : cereal::InputArchive<bounded_input_archive, cereal::AllowEmptyClassElision>(this), _bytes(bytes) {
        std::uint8_t writer_little_endian = 0;
        load_bytes<1>(&writer_little_endian, 1);
        if (writer_little_endian > 1) throw cereal::Exception("not a portable binary archive");
        _swap = writer_little_endian != static_cast<std::uint8_t>(cereal::portable_binary_detail::is_little_endian());
    }

    template <std::size_t ElementSize>
    void load_bytes(void* into, std::size_t size) {
        if (size > remaining()) throw cereal::Exception("payload ends early");
        auto* out = static_cast<unsigned char*>(into);
        for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<unsigned char>(_bytes[_at + i]);
        _at += size;
        if (_swap && ElementSize > 1)
            for (std::size_t i = 0; i < size; i += ElementSize)
                cereal::portable_binary_detail::swap_bytes<ElementSize>(out + i);
    }

    [[nodiscard]] std::size_t remaining() const { return _bytes.size() - _at; }

private:
    std::string_view _bytes;
    std::size_t _at = 0;
    bool _swap = false;
};

template <class T>
inline std::enable_if_t<std::is_arithmetic_v<T>> CEREAL_LOAD_FUNCTION_NAME(bounded_input_archive& ar, T& value) {
    ar.template load_bytes<sizeof(T)>(&value, sizeof value);
}

template <class T>
inline void CEREAL_SERIALIZE_FUNCTION_NAME(bounded_input_archive& ar, cereal::NameValuePair<T>& pair) {
    ar(pair.value);
}

template <class T>
inline void CEREAL_SERIALIZE_FUNCTION_NAME(bounded_input_archive& ar, cereal::SizeTag<T>& tag) {
    ar(tag.size);
    // Every element takes at least a byte (empty classes aside, which this refuses in bulk).
    if (static_cast<std::uint64_t>(tag.size) > ar.remaining()) throw cereal::Exception("size beyond the payload");
}

template <class T>
inline void CEREAL_LOAD_FUNCTION_NAME(bounded_input_archive& ar, cereal::BinaryData<T>& data) {
    using element = std::remove_pointer_t<T>;
    ar.template load_bytes<sizeof(element)>(data.data, static_cast<std::size_t>(data.size));
}

}  // namespace zpartisan

CEREAL_REGISTER_ARCHIVE(zpartisan::bounded_input_archive)

// Paired with the archive that writes what it reads (cereal checks split save/load pairs).
namespace cereal::traits::detail {
template <>
struct get_output_from_input<zpartisan::bounded_input_archive> {
    using type = cereal::PortableBinaryOutputArchive;
};
}  // namespace cereal::traits::detail
