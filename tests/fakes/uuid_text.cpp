#include "tests/fakes/uuid_text.hpp"

#include <cctype>

namespace lifeline::fake_prefect {

std::string UuidGenerator::next() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::uint64_t hi = rng_();
  std::uint64_t lo = rng_();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 32; ++i) {
    std::uint64_t word = i < 16 ? hi : lo;
    int shift = 60 - 4 * (i % 16);
    out.push_back(kHex[(word >> shift) & 0xf]);
    if (i == 7 || i == 11 || i == 15 || i == 19) out.push_back('-');
  }
  return out;
}

std::optional<std::string> canonical_uuid(std::string_view text) {
  if (text.size() > 9 && (text.substr(0, 9) == "urn:uuid:" || text.substr(0, 9) == "URN:UUID:")) {
    text.remove_prefix(9);
  }
  std::string hex;
  hex.reserve(32);
  if (text.size() == 36) {
    for (std::size_t i = 0; i < text.size(); ++i) {
      bool dash_pos = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash_pos) {
        if (text[i] != '-') return std::nullopt;
        continue;
      }
      hex.push_back(text[i]);
    }
  } else if (text.size() == 32) {
    hex.assign(text);
  } else {
    return std::nullopt;
  }
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < hex.size(); ++i) {
    auto c = static_cast<unsigned char>(hex[i]);
    if (!std::isxdigit(c)) return std::nullopt;
    out.push_back(static_cast<char>(std::tolower(c)));
    if (i == 7 || i == 11 || i == 15 || i == 19) out.push_back('-');
  }
  return out;
}

}  // namespace lifeline::fake_prefect
