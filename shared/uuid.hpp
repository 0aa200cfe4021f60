#pragma once
// UUID helpers: validation of run ids, random ids (v4) for events, and name-based
// ids (v5) for Prefect transition ids that must be the same on every retry.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lifeline {

// Characters in the canonical form.
constexpr std::size_t kUuidLength = 36;

// True for the canonical 8-4-4-4-12 hex form (either case).
bool is_uuid(std::string_view text);

// Lower-case canonical form of a UUID; any other text is returned unchanged.
std::string normalize_uuid(std::string_view text);

// The 16 bytes of `text`; nullopt unless is_uuid(text).
std::optional<std::array<std::uint8_t, 16>> uuid_bytes(std::string_view text);
// The lower-case canonical form of 16 bytes.
std::string format_uuid(const std::array<std::uint8_t, 16>& bytes);

// A random (version 4) UUID.
std::string uuid_v4();

// A name-based (version 5, SHA-1) UUID of `name` in namespace `ns` (a canonical UUID;
// any other text stands for the nil namespace).
std::string uuid_v5(std::string_view ns, std::string_view name);

}  // namespace lifeline
