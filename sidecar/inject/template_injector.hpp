#pragma once
// Adds the lifeline sidecar to a Prefect Kubernetes work-pool base job template.
//
// A pure function: JSON in, JSON (or an error) out; no I/O, no clock, no globals.
// The `lifeline-sidecar inject` verb reads and writes the files around it.
// Thread-safety: free functions on values; safe to call from any thread.

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace lifeline::sidecar {

// What the injected sidecar looks like. The duration strings and on_unreachable become the
// defaults of job variables (lifeline_interval, ...) that a deployment may override.
struct InjectOptions {
  std::string image;                               // required, e.g. "lifeline/sidecar:0.1.0"
  std::string reaper_url;                          // required, e.g. "http://lifeline-reaper.lifeline:8080"
  std::string token_secret_name = "lifeline-token";  // Secret in the flow-run namespace
  std::string token_secret_key = "token";            // key in that Secret holding the bearer token
  // Secret (in the flow-run namespace) whose key "ca.crt" is the CA bundle the reaper's
  // certificate chains to: for an https:// reaper with a private CA. Empty: no CA volume, the
  // sidecar trusts the system's store.
  std::string reaper_ca_secret;
  bool legacy_sidecar = false;  // regular container after the flow container (Kubernetes < 1.29)
  std::string interval = "5s";
  std::string ttl = "30s";
  std::string kill_grace = "10s";
  std::string on_unreachable = "stop";  // "stop" or "continue"
  std::string target = "auto";          // the sidecar's --target
  // UID the sidecar runs as. Set it to the UID the flow container runs as when the template
  // does not say (see README: the sidecar must be able to signal the workload).
  std::optional<std::int64_t> run_as_user;
};

// The injected template, plus what the operator should know about it (e.g. backoffLimit > 0).
struct Injected {
  nlohmann::json base_job_template;
  std::vector<std::string> warnings;
};

// Why a template was refused; one sentence naming the offending path.
struct InjectError {
  std::string message;
};

class [[nodiscard]] InjectResult {
 public:
  InjectResult(Injected value) : v_(std::move(value)) {}    // NOLINT(google-explicit-constructor)
  InjectResult(InjectError error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<Injected>(v_); }
  explicit operator bool() const { return ok(); }
  const Injected& value() const& { return std::get<Injected>(v_); }
  Injected&& value() && { return std::get<Injected>(std::move(v_)); }
  const InjectError& error() const { return std::get<InjectError>(v_); }

 private:
  std::variant<Injected, InjectError> v_;
};

// Fixed names the injector owns. Re-injection replaces entries with these names.
inline constexpr const char* kSidecarContainerName = "lifeline";
inline constexpr const char* kTokenVolumeName = "lifeline-token";
inline constexpr const char* kTokenMountPath = "/var/run/secrets/lifeline";
inline constexpr const char* kCaVolumeName = "lifeline-reaper-ca";
inline constexpr const char* kCaMountPath = "/var/run/secrets/lifeline-reaper-ca";
inline constexpr const char* kCaSecretKey = "ca.crt";
inline constexpr int kSidecarPort = 8790;
// LIFELINE_AWAIT_SIGTERM of a native sidecar (see sidecar_container).
inline constexpr const char* kNativeAwaitSigterm = "1h";

// Injects (or re-injects) the sidecar into `base_job_template` ({"job_configuration": {...,
// "job_manifest": Job}, "variables": JSON schema}). Idempotent: injecting the result again
// with the same options yields an identical document. Refuses templates Prefect's Kubernetes
// worker would not run or that lifeline cannot safely join (see the .cpp for the list).
InjectResult inject_lifeline(const nlohmann::json& base_job_template, const InjectOptions& options);

// The names of every `{{ name }}` placeholder in the strings of `value` (recursively), in the
// way Prefect's templating finds them (whitespace inside the braces is ignored).
std::set<std::string> find_placeholders(const nlohmann::json& value);

// Placeholders used in job_configuration but not declared under variables.properties.
// Prefect's own references (`prefect.variables.*`, `prefect.blocks.*`) are not reported.
std::set<std::string> undeclared_placeholders(const nlohmann::json& base_job_template);

}  // namespace lifeline::sidecar
