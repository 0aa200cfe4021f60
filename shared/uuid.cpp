#include "shared/uuid.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <random>

namespace lifeline {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::array<std::uint8_t, 16> bytes_of(std::string_view text) {
  std::array<std::uint8_t, 16> b{};
  std::size_t k = 0;
  for (std::size_t i = 0; i < text.size() && k < 32; ++i) {
    int v = hex_value(text[i]);
    if (v < 0) continue;
    if (k % 2 == 0) b[k / 2] = static_cast<std::uint8_t>(v << 4);
    else b[k / 2] = static_cast<std::uint8_t>(b[k / 2] | v);
    ++k;
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

std::string normalize_uuid(std::string_view text) { return format_uuid(bytes_of(text)); }

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
  auto nsb = bytes_of(ns);
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
