#pragma once
// Bearer-token check for /v1 requests. Compares SHA-256 digests with CRYPTO_memcmp, so
// neither the token's length nor a matching prefix shows in the response time.
// Thread-safety: immutable after construction; replace the object to change the token.

#include <array>
#include <string>
#include <string_view>

namespace lifeline::reaper::api {

class BearerAuth {
 public:
  // An empty token disables authentication.
  explicit BearerAuth(std::string_view token);

  bool enabled() const { return enabled_; }
  // True when auth is disabled or `authorization` is "Bearer <token>".
  bool allows(std::string_view authorization) const;

 private:
  bool enabled_ = false;
  std::array<unsigned char, 32> digest_{};
};

}  // namespace lifeline::reaper::api
