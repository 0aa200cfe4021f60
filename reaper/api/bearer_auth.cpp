#include "reaper/api/bearer_auth.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

namespace lifeline::reaper::api {
namespace {

std::array<unsigned char, 32> sha256(std::string_view s) {
  std::array<unsigned char, 32> d{};
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d.data());
  return d;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

BearerAuth::BearerAuth(std::string_view token) : enabled_(!token.empty()) {
  if (enabled_) digest_ = sha256(token);
}

bool BearerAuth::allows(std::string_view authorization) const {
  if (!enabled_) return true;
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size() || !iequals(authorization.substr(0, kScheme.size()), kScheme))
    return false;
  std::string_view presented = authorization.substr(kScheme.size());
  while (!presented.empty() && presented.front() == ' ') presented.remove_prefix(1);
  while (!presented.empty() && presented.back() == ' ') presented.remove_suffix(1);
  auto d = sha256(presented);
  return CRYPTO_memcmp(d.data(), digest_.data(), d.size()) == 0;
}

}  // namespace lifeline::reaper::api
