#include "shared/uuid.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <random>

namespace lifeline {
namespace {

// The value of each hex digit, -1 for any other character: one load per character on the
// heartbeat path, which checks and decodes every run id.
constexpr std::array<std::int8_t, 256> kHexValue = [] {
  std::array<std::int8_t, 256> t{};
  t.fill(-1);
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - 'a' + 10);
  for (int c = 'A'; c <= 'F'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - 'A' + 10);
  return t;
}();

int hex_value(char c) { return kHexValue[static_cast<unsigned char>(c)]; }

// Where each byte's two digits start in the canonical 8-4-4-4-12 form.
constexpr std::array<std::uint8_t, 16> kByteOffsets = {0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34};

// The 16 bytes of a canonical UUID (is_uuid(text) holds).
std::array<std::uint8_t, 16> bytes_of(std::string_view text) {
  std::array<std::uint8_t, 16> b{};
  for (std::size_t i = 0; i < 16; ++i) {
    const std::size_t at = kByteOffsets[i];
    b[i] = static_cast<std::uint8_t>((hex_value(text[at]) << 4) | hex_value(text[at + 1]));
  }
  return b;
}

}  // namespace

bool is_uuid(std::string_view t) {
  if (t.size() != 36) return false;
  for (std::size_t i = 0; i < 36; ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (t[i] != '-') return false;
    } else if (hex_value(t[i]) < 0) {
      return false;
    }
  }
  return true;
}

std::string normalize_uuid(std::string_view text) {
  const auto b = uuid_bytes(text);
  return b ? format_uuid(*b) : std::string(text);
}

std::optional<std::array<std::uint8_t, 16>> uuid_bytes(std::string_view text) {
  if (!is_uuid(text)) return std::nullopt;
  return bytes_of(text);
}

std::string format_uuid(const std::array<std::uint8_t, 16>& b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 0xf];
  }
  return out;
}

std::string uuid_v4() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::array<std::uint8_t, 16> b{};
  for (std::size_t i = 0; i < 16; i += 8) {
    std::uint64_t r = rng();
    for (std::size_t j = 0; j < 8; ++j) b[i + j] = static_cast<std::uint8_t>(r >> (8 * j));
  }
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);
  return format_uuid(b);
}

std::string uuid_v5(std::string_view ns, std::string_view name) {
  const auto nsb = uuid_bytes(ns).value_or(std::array<std::uint8_t, 16>{});
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha1(), nullptr);
  EVP_DigestUpdate(ctx, nsb.data(), nsb.size());
  EVP_DigestUpdate(ctx, name.data(), name.size());
  EVP_DigestFinal_ex(ctx, digest, &len);
  EVP_MD_CTX_free(ctx);
  std::array<std::uint8_t, 16> b{};
  for (std::size_t i = 0; i < 16; ++i) b[i] = digest[i];
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x50);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);
  return format_uuid(b);
}

}  // namespace lifeline
