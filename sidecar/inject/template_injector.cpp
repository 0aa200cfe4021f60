#include "sidecar/inject/template_injector.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <regex>
#include <string_view>

// What the injector refuses, and why:
// - no job_configuration.job_manifest, no pod spec under spec.template.spec: nothing to inject;
// - containers missing, empty, not a list, or containers[0] not named "prefect-job": Prefect's
//   worker puts its env and command into containers[0] and refuses other names;
// - restartPolicy other than "Never": Prefect refuses it, and a restarted flow container would
//   run the flow twice;
// - containers, initContainers or volumes given as a placeholder: they cannot be merged;
// - a pod or flow container that must run as non-root without saying which UID: the sidecar
//   could not be given the same UID, so it could not stop the workload (fencing);
// - options that the sidecar itself would refuse (bad durations, interval >= ttl, ...).

namespace lifeline::sidecar {
namespace {

using nlohmann::json;

constexpr std::string_view kFlowContainerName = "prefect-job";

// ---- option validation ------------------------------------------------------------------

// Go-style duration ("250ms", "5s", "1m30s") to milliseconds; the same grammar the sidecar
// accepts. Returns nullopt for anything else (bare numbers, signs, unknown units).
std::optional<double> duration_ms(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t start = i;
    double value = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0) {
      value = value * 10 + (text[i] - '0');
      ++i;
    }
    bool digits = i > start;
    if (i < text.size() && text[i] == '.') {
      ++i;
      double scale = 0.1;
      while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0) {
        value += (text[i] - '0') * scale;
        scale /= 10;
        digits = true;
        ++i;
      }
    }
    if (!digits) return std::nullopt;
    std::size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i])) != 0) ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    if (unit == "ms") {
      total += value;
    } else if (unit == "s") {
      total += value * 1e3;
    } else if (unit == "m") {
      total += value * 60e3;
    } else if (unit == "h") {
      total += value * 3600e3;
    } else {
      return std::nullopt;
    }
  }
  return total;
}

bool is_dns_subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return alnum(c) || c == '-' || c == '.'; });
}

bool is_secret_key(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.';
  });
}

std::optional<InjectError> validate(const InjectOptions& o) {
  auto err = [](std::string m) { return InjectError{std::move(m)}; };
  if (o.image.empty() ||
      std::any_of(o.image.begin(), o.image.end(),
                  [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }))
    return err("the sidecar image must be a non-empty image reference without spaces");
  if (o.reaper_url.rfind("http://", 0) != 0 && o.reaper_url.rfind("https://", 0) != 0)
    return err("the reaper URL must start with http:// or https:// (got \"" + o.reaper_url +
               "\")");
  if (!is_dns_subdomain(o.token_secret_name))
    return err("the token Secret name \"" + o.token_secret_name +
               "\" is not a valid Kubernetes name (lowercase letters, digits, '-', '.')");
  if (!is_secret_key(o.token_secret_key))
    return err("the token Secret key \"" + o.token_secret_key +
               "\" is not a valid Secret key (letters, digits, '-', '_', '.')");
  if (!o.reaper_ca_secret.empty()) {
    if (o.reaper_url.rfind("https://", 0) != 0)
      return err("a reaper CA Secret is only used with an https:// reaper URL (got \"" + o.reaper_url + "\")");
    if (!is_dns_subdomain(o.reaper_ca_secret))
      return err("the reaper CA Secret name \"" + o.reaper_ca_secret +
                 "\" is not a valid Kubernetes name (lowercase letters, digits, '-', '.')");
  }
  const std::pair<const char*, const std::string*> durations[] = {
      {"interval", &o.interval}, {"ttl", &o.ttl}, {"kill grace", &o.kill_grace}};
  for (const auto& [name, text] : durations) {
    auto ms = duration_ms(*text);
    if (!ms || *ms <= 0)
      return err(std::string("the ") + name + " \"" + *text +
                 "\" is not a positive duration such as 250ms, 5s, 2m or 1m30s");
  }
  const double interval = *duration_ms(o.interval);
  const double ttl = *duration_ms(o.ttl);
  const double grace = *duration_ms(o.kill_grace);
  if (interval >= ttl)
    return err("the interval (" + o.interval + ") must be shorter than the ttl (" + o.ttl +
               "), or every lease would lapse between two heartbeats");
  // The sidecar's fencing rule: the workload must be dead before last ack + ttl - margin.
  if (o.on_unreachable != "stop" && o.on_unreachable != "continue")
    return err("on-unreachable must be \"stop\" or \"continue\" (got \"" + o.on_unreachable + "\")");
  const double margin = std::max(1000.0, ttl * 0.05);
  if (o.on_unreachable == "stop" && grace + margin >= ttl)
    return err("the kill grace (" + o.kill_grace + ") plus the clock margin must be shorter than "
               "the ttl (" + o.ttl + "): the sidecar could not stop the workload before the "
               "reaper may declare the run dead");
  if (o.target.empty()) return err("the sidecar target must not be empty (use \"auto\")");
  if (o.run_as_user && *o.run_as_user < 0) return err("run_as_user must not be negative");
  return std::nullopt;
}

// ---- navigation ---------------------------------------------------------------------------

// Follows `keys` from `root`, requiring an object at each step. On failure names the path.
json* object_at(json& root, std::initializer_list<const char*> keys, std::string& path,
                std::string& error) {
  json* node = &root;
  path.clear();
  for (const char* key : keys) {
    path += path.empty() ? key : std::string(".") + key;
    auto it = node->find(key);
    if (it == node->end()) {
      error = "the template has no " + path;
      return nullptr;
    }
    if (!it->is_object()) {
      error = path + " must be an object";
      return nullptr;
    }
    node = &*it;
  }
  return node;
}

bool is_single_placeholder(const json& v) {
  if (!v.is_string()) return false;
  static const std::regex whole(R"(^\s*\{\{\s*[\w.\-\[\]$]+\s*\}\}\s*$)");
  return std::regex_match(v.get<std::string>(), whole);
}

std::string placeholder_name(const json& v) {
  auto names = find_placeholders(v);
  return names.empty() ? std::string() : *names.begin();
}

// Removes every entry of the list `key` whose "name" is `name`. Returns false when the key
// holds something other than a list (e.g. a placeholder).
bool remove_named(json& spec, const char* key, std::string_view name) {
  auto it = spec.find(key);
  if (it == spec.end()) return true;
  if (!it->is_array()) return false;
  auto& arr = *it;
  arr.erase(std::remove_if(arr.begin(), arr.end(),
                           [&](const json& e) {
                             return e.is_object() && e.contains("name") &&
                                    e["name"].is_string() && e["name"].get<std::string>() == name;
                           }),
            arr.end());
  return true;
}

// ---- the sidecar --------------------------------------------------------------------------

json env_value(const char* name, std::string value) {
  return json{{"name", name}, {"value", std::move(value)}};
}

json env_field(const char* name, const char* field_path) {
  return json{{"name", name}, {"valueFrom", {{"fieldRef", {{"fieldPath", field_path}}}}}};
}

json http_probe(const char* path, int period, int failures) {
  return json{{"httpGet", {{"path", path}, {"port", kSidecarPort}, {"scheme", "HTTP"}}},
              {"periodSeconds", period},
              {"timeoutSeconds", std::min(2, period)},
              {"failureThreshold", failures}};
}

// Decides the sidecar's securityContext. The sidecar must be able to send SIGTERM/SIGKILL to
// the workload: Linux allows that when the sender's UID equals the target's UID, or with
// CAP_KILL. Kubernetes cannot give a capability to a non-root process (no ambient
// capabilities), so the choice is: the flow container's own UID, or root with only CAP_KILL.
struct Identity {
  json security_context;
  std::optional<std::string> warning;
};

std::optional<Identity> decide_identity(const json& pod_spec, const json& flow,
                                        const InjectOptions& o, std::string& error) {
  json sc = {{"allowPrivilegeEscalation", false},
             {"readOnlyRootFilesystem", true},
             {"capabilities", {{"drop", {"ALL"}}}},
             {"seccompProfile", {{"type", "RuntimeDefault"}}}};
  const json empty = json::object();
  const json& flow_sc = flow.contains("securityContext") && flow["securityContext"].is_object()
                            ? flow["securityContext"]
                            : empty;
  const json& pod_sc =
      pod_spec.contains("securityContext") && pod_spec["securityContext"].is_object()
          ? pod_spec["securityContext"]
          : empty;
  auto literal_uid = [](const json& v) -> std::optional<std::int64_t> {
    if (v.is_number_integer()) return v.get<std::int64_t>();
    return std::nullopt;
  };

  // The UID the flow container runs as, when the template says it.
  const json* flow_uid = nullptr;
  if (flow_sc.contains("runAsUser")) {
    flow_uid = &flow_sc["runAsUser"];
  } else if (pod_sc.contains("runAsUser")) {
    flow_uid = &pod_sc["runAsUser"];
  }

  if (o.run_as_user) {
    if (flow_uid != nullptr) {
      auto known = literal_uid(*flow_uid);
      if (known && *known != *o.run_as_user) {
        error = "run_as_user " + std::to_string(*o.run_as_user) +
                " differs from the flow container's runAsUser " + std::to_string(*known) +
                ": the sidecar could not signal the workload";
        return std::nullopt;
      }
    }
    sc["runAsUser"] = *o.run_as_user;
    sc["runAsNonRoot"] = *o.run_as_user != 0;
    return Identity{sc, std::nullopt};
  }
  if (flow_uid != nullptr) {
    // Same UID as the flow container: signalling needs no capability.
    sc["runAsUser"] = *flow_uid;
    if (auto known = literal_uid(*flow_uid)) sc["runAsNonRoot"] = *known != 0;
    return Identity{sc, std::nullopt};
  }
  const bool must_be_non_root =
      (flow_sc.contains("runAsNonRoot") && flow_sc["runAsNonRoot"] == true) ||
      (pod_sc.contains("runAsNonRoot") && pod_sc["runAsNonRoot"] == true);
  if (must_be_non_root) {
    error =
        "the flow container must run as non-root but its UID is not set: set runAsUser on the "
        "prefect-job container or the pod (or pass the UID to the injector) so the sidecar can "
        "run as the same UID and stop the workload";
    return std::nullopt;
  }
  // Unknown UID (the image's USER; Prefect's images run as root): root without any capability
  // but KILL, so it can stop the workload whatever UID the image picked.
  sc["runAsUser"] = 0;
  sc["runAsNonRoot"] = false;
  sc["capabilities"]["add"] = json::array({"KILL"});
  return Identity{sc,
                  "the flow container's UID is not set in the template (Prefect's images run as "
                  "root), so the sidecar runs as UID 0 with only CAP_KILL; set runAsUser on the "
                  "prefect-job container or the pod to run both as the same non-root UID"};
}

json sidecar_container(const InjectOptions& o, json security_context) {
  json c = {
      {"name", kSidecarContainerName},
      {"image", "{{ lifeline_image }}"},
      {"imagePullPolicy", "IfNotPresent"},
      {"args", {"run", "--target", o.target}},
      {"env",
       {
           env_field("LIFELINE_RUN_ID", "metadata.labels['prefect.io/flow-run-id']"),
           env_field("LIFELINE_HOLDER", "metadata.name"),
           env_field("LIFELINE_NODE", "spec.nodeName"),
           env_value("LIFELINE_REAPER_URL", "{{ lifeline_reaper_url }}"),
           env_value("LIFELINE_TOKEN_FILE", std::string(kTokenMountPath) + "/token"),
           env_value("LIFELINE_INTERVAL", "{{ lifeline_interval }}"),
           env_value("LIFELINE_TTL", "{{ lifeline_ttl }}"),
           env_value("LIFELINE_KILL_GRACE", "{{ lifeline_kill_grace }}"),
           env_value("LIFELINE_ON_UNREACHABLE", "{{ lifeline_on_unreachable }}"),
           env_value("LIFELINE_LISTEN", "0.0.0.0:" + std::to_string(kSidecarPort)),
       }},
      {"ports", {{{"name", "lifeline"}, {"containerPort", kSidecarPort}, {"protocol", "TCP"}}}},
      // Started means listening: the flow container starts only after that (native mode).
      {"startupProbe", http_probe("/healthz", 1, 30)},
      {"livenessProbe", http_probe("/healthz", 10, 3)},
      // Ready means the lease is held.
      {"readinessProbe", http_probe("/readyz", 5, 2)},
      {"resources",
       {{"requests", {{"cpu", "10m"}, {"memory", "8Mi"}}}, {"limits", {{"memory", "32Mi"}}}}},
      {"securityContext", std::move(security_context)},
      {"terminationMessagePolicy", "FallbackToLogsOnError"},
      {"volumeMounts",
       {{{"name", kTokenVolumeName}, {"mountPath", kTokenMountPath}, {"readOnly", true}}}},
  };
  if (!o.reaper_ca_secret.empty()) {
    c["env"].push_back(env_value("LIFELINE_REAPER_CA_FILE", std::string(kCaMountPath) + "/" + kCaSecretKey));
    c["volumeMounts"].push_back({{"name", kCaVolumeName}, {"mountPath", kCaMountPath}, {"readOnly", true}});
  }
  if (!o.legacy_sidecar) {
    c["restartPolicy"] = "Always";  // native sidecar (Kubernetes >= 1.29)
    // A native sidecar that exits before the kubelet has seen the flow container end is
    // restarted. The kubelet always sends SIGTERM once the regular containers have ended, so
    // the bound only matters when something else is wrong. A legacy sidecar is a regular
    // container: waiting would hold the Job open, so it exits at once.
    c["env"].push_back(env_value("LIFELINE_AWAIT_SIGTERM", kNativeAwaitSigterm));
  }
  return c;
}

json token_volume(const InjectOptions& o) {
  // 0444: the file must be readable by whatever UID the sidecar runs as; only the sidecar
  // mounts the volume.
  return json{{"name", kTokenVolumeName},
              {"secret",
               {{"secretName", "{{ lifeline_token_secret }}"},
                {"items", {{{"key", o.token_secret_key}, {"path", "token"}}}},
                {"defaultMode", 0444}}}};  // octal: 292 in the JSON
}

// Not optional: a pod whose CA Secret is missing stays Pending with an event naming it,
// rather than starting a sidecar that cannot verify the reaper.
json ca_volume() {
  return json{{"name", kCaVolumeName},
              {"secret",
               {{"secretName", "{{ lifeline_reaper_ca_secret }}"},
                {"items", {{{"key", kCaSecretKey}, {"path", kCaSecretKey}}}},
                {"defaultMode", 0444}}}};
}

json string_variable(const char* title, const std::string& description, const std::string& def) {
  return json{{"type", "string"}, {"title", title}, {"description", description}, {"default", def}};
}

void declare_variables(json& properties, const InjectOptions& o) {
  static const char* kDurationPattern = R"(^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$)";
  properties["lifeline_image"] = string_variable(
      "Lifeline sidecar image", "Image of the lifeline sidecar added to every flow-run pod.",
      o.image);
  properties["lifeline_reaper_url"] = string_variable(
      "Lifeline reaper URL",
      "Base URL of the lifeline reaper the sidecar heartbeats, e.g. "
      "http://lifeline-reaper.lifeline:8080.",
      o.reaper_url);
  if (o.reaper_ca_secret.empty()) {
    properties.erase("lifeline_reaper_ca_secret");  // left by an earlier injection with a CA
  } else {
    properties["lifeline_reaper_ca_secret"] = string_variable(
        "Lifeline reaper CA Secret",
        "Name of the Secret (in the flow run's namespace) whose key \"ca.crt\" is the CA bundle "
        "(PEM) that signed the reaper's certificate; the sidecar verifies the https:// reaper "
        "against it.",
        o.reaper_ca_secret);
  }
  properties["lifeline_token_secret"] = string_variable(
      "Lifeline token Secret",
      "Name of the Secret (in the flow run's namespace) holding the bearer token the sidecar "
      "sends to the reaper, under the key \"" + o.token_secret_key + "\".",
      o.token_secret_name);
  properties["lifeline_interval"] = string_variable(
      "Lifeline heartbeat interval",
      "How often the sidecar renews the run's lease (Go-style duration: 250ms, 5s, 1m30s). "
      "Must be well below the TTL.",
      o.interval);
  properties["lifeline_ttl"] = string_variable(
      "Lifeline lease TTL",
      "Lease TTL the sidecar asks for; the reaper may clamp it. A run whose lease lapses is "
      "marked Crashed about this long after its pod stopped heartbeating.",
      o.ttl);
  properties["lifeline_kill_grace"] = string_variable(
      "Lifeline kill grace",
      "Time between SIGTERM and SIGKILL when the sidecar must stop the workload (it lost its "
      "lease or the reaper said stop). Kill grace plus a clock margin must be below the TTL.",
      o.kill_grace);
  for (const char* key : {"lifeline_interval", "lifeline_ttl", "lifeline_kill_grace"})
    properties[key]["pattern"] = kDurationPattern;
  properties["lifeline_on_unreachable"] = string_variable(
      "Lifeline behaviour when the reaper is unreachable",
      "stop: stop the workload before the lease can lapse, so a run the reaper declares dead is "
      "never still executing (fencing). continue: keep running; the run may be crashed and "
      "retried while this pod still executes it.",
      o.on_unreachable);
  properties["lifeline_on_unreachable"]["enum"] = json::array({"stop", "continue"});
}

// backoffLimit: keep the user's value, set 0 when absent, and warn when it lets Kubernetes
// re-create the pod (the reaper's retry would then run the flow twice; see PREFECT-NOTES).
void check_backoff_limit(json& job_spec, const json& properties, std::vector<std::string>& warnings) {
  const std::string duplicate =
      "Kubernetes re-creates the failed pod while lifeline also reschedules the crashed run, so "
      "the flow may run twice; keep it 0 (Prefect then reschedules evicted runs itself)";
  auto it = job_spec.find("backoffLimit");
  if (it == job_spec.end()) {
    job_spec["backoffLimit"] = 0;
    warnings.push_back("spec.backoffLimit was absent (Kubernetes would use 6): set to 0");
    return;
  }
  if (it->is_number_integer()) {
    if (it->get<std::int64_t>() > 0)
      warnings.push_back("spec.backoffLimit is " + std::to_string(it->get<std::int64_t>()) +
                         ": " + duplicate);
    return;
  }
  if (is_single_placeholder(*it)) {
    const std::string name = placeholder_name(*it);
    auto var = properties.find(name);
    if (var == properties.end() || !var->is_object() || !var->contains("default")) {
      warnings.push_back("spec.backoffLimit is {{ " + name +
                         " }} without a default, so Kubernetes would use 6: " + duplicate);
    } else if (!(*var)["default"].is_number_integer() || (*var)["default"].get<std::int64_t>() != 0) {
      warnings.push_back("spec.backoffLimit defaults to " + (*var)["default"].dump() +
                         " (variable " + name + "): " + duplicate);
    }
    return;
  }
  warnings.push_back("spec.backoffLimit is " + it->dump() + ", not an integer; " + duplicate);
}

bool declares_port(const json& containers, int port) {
  if (!containers.is_array()) return false;
  for (const auto& c : containers) {
    if (!c.is_object() || !c.contains("ports") || !c["ports"].is_array()) continue;
    for (const auto& p : c["ports"])
      if (p.is_object() && p.contains("containerPort") && p["containerPort"] == port) return true;
  }
  return false;
}

}  // namespace

std::set<std::string> find_placeholders(const json& value) {
  std::set<std::string> out;
  if (value.is_string()) {
    static const std::regex re(R"(\{\{\s*([\w.\-\[\]$]+)\s*\}\})");
    const std::string& s = value.get_ref<const std::string&>();
    for (auto it = std::sregex_iterator(s.begin(), s.end(), re); it != std::sregex_iterator(); ++it)
      out.insert((*it)[1].str());
  } else if (value.is_structured()) {
    for (const auto& child : value) out.merge(find_placeholders(child));
  }
  return out;
}

std::set<std::string> undeclared_placeholders(const json& base_job_template) {
  std::set<std::string> out;
  if (!base_job_template.is_object() || !base_job_template.contains("job_configuration"))
    return out;
  const json empty = json::object();
  const json* properties = &empty;
  if (base_job_template.contains("variables") && base_job_template["variables"].is_object() &&
      base_job_template["variables"].contains("properties") &&
      base_job_template["variables"]["properties"].is_object())
    properties = &base_job_template["variables"]["properties"];
  for (const auto& name : find_placeholders(base_job_template["job_configuration"])) {
    if (name.rfind("prefect.", 0) == 0) continue;  // Prefect variables and blocks
    std::string top = name.substr(0, name.find_first_of(".["));
    if (!properties->contains(top)) out.insert(name);
  }
  return out;
}

InjectResult inject_lifeline(const json& base_job_template, const InjectOptions& options) {
  if (auto bad = validate(options)) return *bad;
  if (!base_job_template.is_object())
    return InjectError{"the base job template must be a JSON object"};

  json out = base_job_template;
  std::vector<std::string> warnings;
  std::string path;
  std::string error;

  json* job = object_at(out, {"job_configuration", "job_manifest"}, path, error);
  if (job == nullptr) return InjectError{error + " (is this a Kubernetes work-pool template?)"};
  if (job->contains("kind") && (*job)["kind"] != "Job")
    return InjectError{"job_configuration.job_manifest.kind must be \"Job\" (got " +
                       (*job)["kind"].dump() + ")"};
  json* job_spec = object_at(*job, {"spec"}, path, error);
  if (job_spec == nullptr) return InjectError{"job_configuration.job_manifest: " + error};
  json* pod_spec = object_at(*job_spec, {"template", "spec"}, path, error);
  if (pod_spec == nullptr) return InjectError{"job_configuration.job_manifest.spec: " + error};
  const std::string pod_path = "job_configuration.job_manifest.spec.template.spec";

  auto containers = pod_spec->find("containers");
  if (containers == pod_spec->end())
    return InjectError{pod_path + " has no containers"};
  if (!containers->is_array())
    return InjectError{pod_path + ".containers must be a list (a placeholder cannot be merged)"};
  if (containers->empty()) return InjectError{pod_path + ".containers is empty"};
  const json& flow = (*containers)[0];
  if (!flow.is_object() || !flow.contains("name") || flow["name"] != kFlowContainerName)
    return InjectError{pod_path + ".containers[0] must be the flow container named \"" +
                       std::string(kFlowContainerName) + "\" (Prefect's worker configures " +
                       "containers[0]); got " + (flow.is_object() && flow.contains("name")
                                                      ? flow["name"].dump()
                                                      : std::string("a container without a name"))};
  auto restart = pod_spec->find("restartPolicy");
  if (restart == pod_spec->end() || *restart != "Never")
    return InjectError{pod_path + ".restartPolicy must be \"Never\" (Prefect requires it, and a " +
                       "restarted flow container would run the flow again)"};

  // Remove what an earlier injection added, in either mode.
  if (!remove_named(*pod_spec, "initContainers", kSidecarContainerName))
    return InjectError{pod_path + ".initContainers must be a list (a placeholder cannot be merged)"};
  if (auto it = pod_spec->find("initContainers"); it != pod_spec->end() && it->empty())
    pod_spec->erase(it);
  containers->erase(std::remove_if(containers->begin() + 1, containers->end(),
                                   [](const json& c) {
                                     return c.is_object() && c.contains("name") &&
                                            c["name"] == kSidecarContainerName;
                                   }),
                    containers->end());
  if (!remove_named(*pod_spec, "volumes", kTokenVolumeName) || !remove_named(*pod_spec, "volumes", kCaVolumeName))
    return InjectError{pod_path + ".volumes must be a list (a placeholder cannot be merged)"};

  // Variables: the JSON schema the placeholders are declared in.
  if (!out.contains("variables")) out["variables"] = {{"type", "object"}};
  if (!out["variables"].is_object()) return InjectError{"variables must be a JSON schema object"};
  json& variables = out["variables"];
  if (!variables.contains("properties")) variables["properties"] = json::object();
  if (!variables["properties"].is_object())
    return InjectError{"variables.properties must be an object"};

  auto identity = decide_identity(*pod_spec, flow, options, error);
  if (!identity) return InjectError{error};

  check_backoff_limit(*job_spec, variables["properties"], warnings);
  if (identity->warning) warnings.push_back(*identity->warning);

  if (pod_spec->contains("shareProcessNamespace") && (*pod_spec)["shareProcessNamespace"] != true)
    warnings.push_back("shareProcessNamespace was " + (*pod_spec)["shareProcessNamespace"].dump() +
                       ": set to true (the sidecar must see the workload's processes)");
  (*pod_spec)["shareProcessNamespace"] = true;

  const bool other_containers = containers->size() > 1 ||
                                (pod_spec->contains("initContainers") &&
                                 std::any_of((*pod_spec)["initContainers"].begin(),
                                             (*pod_spec)["initContainers"].end(), [](const json& c) {
                                               return c.is_object() && c.value("restartPolicy", "") ==
                                                                           "Always";
                                             }));
  if (other_containers && options.target == "auto")
    warnings.push_back(
        "the pod has other long-running containers; with --target auto their processes count as "
        "the workload too, so the sidecar waits for all of them to exit");
  if (declares_port(*containers, kSidecarPort) ||
      (pod_spec->contains("initContainers") && declares_port((*pod_spec)["initContainers"], kSidecarPort)))
    warnings.push_back("another container declares port " + std::to_string(kSidecarPort) +
                       ", which the sidecar listens on (containers share the pod's network)");

  json sidecar = sidecar_container(options, std::move(identity->security_context));
  if (options.legacy_sidecar) {
    containers->insert(containers->begin() + 1, std::move(sidecar));
  } else {
    json& init = (*pod_spec)["initContainers"];
    if (init.is_null()) init = json::array();
    // Last: the user's init containers finish before the sidecar starts watching processes.
    init.push_back(std::move(sidecar));
  }
  json& volumes = (*pod_spec)["volumes"];
  if (volumes.is_null()) volumes = json::array();
  volumes.push_back(token_volume(options));
  if (!options.reaper_ca_secret.empty()) volumes.push_back(ca_volume());

  declare_variables(variables["properties"], options);
  return Injected{std::move(out), std::move(warnings)};
}

}  // namespace lifeline::sidecar
