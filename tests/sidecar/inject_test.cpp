// Tests of the base job template injector (sidecar/inject) and of the committed
// manifests/prefect/base-job-template.json, which must be its output on Prefect's default.
//
// To regenerate that file after changing the injector:
//   LIFELINE_UPDATE_GOLDEN=1 ./inject_test --gtest_filter='*CommittedBaseJobTemplate*'

#include "sidecar/inject/template_injector.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace lifeline::sidecar {
namespace {

using nlohmann::json;

json load(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  return json::parse(in);
}

json default_template() {
  return load(std::string(LIFELINE_INJECT_TEST_DATA) + "/prefect-default-k8s-template.json");
}

json customized_template() {
  return load(std::string(LIFELINE_INJECT_TEST_DATA) + "/customized-k8s-template.json");
}

// The options the committed manifests/prefect/base-job-template.json is generated with.
InjectOptions golden_options() {
  InjectOptions o;
  o.image = "lifeline/sidecar:0.1.0";
  o.reaper_url = "http://lifeline-reaper.lifeline:8080";
  return o;
}

InjectOptions legacy_options() {
  InjectOptions o = golden_options();
  o.legacy_sidecar = true;
  return o;
}

json& pod_spec(json& t) { return t["job_configuration"]["job_manifest"]["spec"]["template"]["spec"]; }

Injected must_inject(const json& t, const InjectOptions& o) {
  InjectResult r = inject_lifeline(t, o);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (!r.ok()) return Injected{t, {}};
  return r.value();
}

std::string must_fail(const json& t, const InjectOptions& o) {
  InjectResult r = inject_lifeline(t, o);
  EXPECT_FALSE(r.ok()) << "expected a refusal, got " << (r.ok() ? r.value().base_job_template.dump() : "");
  return r.ok() ? std::string() : r.error().message;
}

const json* find_env(const json& container, const std::string& name) {
  for (const auto& e : container["env"])
    if (e["name"] == name) return &e;
  return nullptr;
}

bool mentions(const std::vector<std::string>& warnings, const std::string& needle) {
  return std::any_of(warnings.begin(), warnings.end(),
                     [&](const std::string& w) { return w.find(needle) != std::string::npos; });
}

// Undoes the injection by hand, to show that nothing else changed.
json strip_lifeline(json t, bool had_init_containers) {
  json& spec = pod_spec(t);
  auto drop = [](json& list) {
    list.erase(std::remove_if(list.begin(), list.end(),
                              [](const json& e) {
                                return e["name"] == "lifeline" || e["name"] == "lifeline-token";
                              }),
               list.end());
  };
  drop(spec["containers"]);
  drop(spec["volumes"]);
  if (spec["volumes"].empty()) spec.erase("volumes");
  if (spec.contains("initContainers")) {
    drop(spec["initContainers"]);
    if (!had_init_containers) spec.erase("initContainers");
  }
  spec.erase("shareProcessNamespace");
  for (const char* v : {"lifeline_image", "lifeline_reaper_url", "lifeline_token_secret",
                        "lifeline_interval", "lifeline_ttl", "lifeline_kill_grace",
                        "lifeline_on_unreachable"})
    t["variables"]["properties"].erase(v);
  return t;
}

// ---- Prefect's default template -----------------------------------------------------------

TEST(InjectDefaultTemplate, AddsNativeSidecarAsLastInitContainer) {
  Injected r = must_inject(default_template(), golden_options());
  json& spec = pod_spec(r.base_job_template);
  ASSERT_TRUE(spec["initContainers"].is_array());
  ASSERT_EQ(spec["initContainers"].size(), 1u);
  const json& s = spec["initContainers"][0];
  EXPECT_EQ(s["name"], "lifeline");
  EXPECT_EQ(s["restartPolicy"], "Always");
  EXPECT_EQ(s["image"], "{{ lifeline_image }}");
  EXPECT_EQ(s["args"], json({"run", "--target", "auto"}));
  EXPECT_EQ(spec["shareProcessNamespace"], true);
  EXPECT_EQ(spec["restartPolicy"], "Never");
  ASSERT_EQ(spec["containers"].size(), 1u);
  EXPECT_EQ(spec["containers"][0]["name"], "prefect-job");
  // Restarted if it exits before the kubelet saw the flow container end: it waits for SIGTERM.
  const json* await = find_env(s, "LIFELINE_AWAIT_SIGTERM");
  ASSERT_NE(await, nullptr);
  EXPECT_EQ((*await)["value"], "1h");
}

TEST(InjectDefaultTemplate, SidecarEnvComesFromDownwardApiSecretAndJobVariables) {
  Injected r = must_inject(default_template(), golden_options());
  const json& s = pod_spec(r.base_job_template)["initContainers"][0];
  auto field = [&](const char* name) {
    const json* e = find_env(s, name);
    return e == nullptr ? json() : (*e)["valueFrom"]["fieldRef"]["fieldPath"];
  };
  auto value = [&](const char* name) {
    const json* e = find_env(s, name);
    return e == nullptr ? json() : (*e)["value"];
  };
  EXPECT_EQ(field("LIFELINE_RUN_ID"), "metadata.labels['prefect.io/flow-run-id']");
  EXPECT_EQ(field("LIFELINE_HOLDER"), "metadata.name");
  EXPECT_EQ(field("LIFELINE_NODE"), "spec.nodeName");
  EXPECT_EQ(value("LIFELINE_REAPER_URL"), "{{ lifeline_reaper_url }}");
  EXPECT_EQ(value("LIFELINE_INTERVAL"), "{{ lifeline_interval }}");
  EXPECT_EQ(value("LIFELINE_TTL"), "{{ lifeline_ttl }}");
  EXPECT_EQ(value("LIFELINE_KILL_GRACE"), "{{ lifeline_kill_grace }}");
  EXPECT_EQ(value("LIFELINE_ON_UNREACHABLE"), "{{ lifeline_on_unreachable }}");
  EXPECT_EQ(value("LIFELINE_TOKEN_FILE"), "/var/run/secrets/lifeline/token");

  ASSERT_EQ(s["volumeMounts"].size(), 1u);
  EXPECT_EQ(s["volumeMounts"][0]["mountPath"], "/var/run/secrets/lifeline");
  EXPECT_EQ(s["volumeMounts"][0]["readOnly"], true);
  const json& volumes = pod_spec(r.base_job_template)["volumes"];
  ASSERT_EQ(volumes.size(), 1u);
  EXPECT_EQ(volumes[0]["name"], "lifeline-token");
  EXPECT_EQ(volumes[0]["secret"]["secretName"], "{{ lifeline_token_secret }}");
  EXPECT_EQ(volumes[0]["secret"]["items"][0], json({{"key", "token"}, {"path", "token"}}));
}

TEST(InjectReaperCa, NoCaSecretMeansNoCaVolumeAndTheSystemStore) {
  Injected r = must_inject(default_template(), golden_options());
  const json& s = pod_spec(r.base_job_template)["initContainers"][0];
  EXPECT_EQ(find_env(s, "LIFELINE_REAPER_CA_FILE"), nullptr);
  EXPECT_FALSE(r.base_job_template["variables"]["properties"].contains("lifeline_reaper_ca_secret"));
}

InjectOptions tls_options() {
  InjectOptions o = golden_options();
  o.reaper_url = "https://lifeline-reaper.lifeline:8443";
  o.reaper_ca_secret = "lifeline-reaper-ca";
  return o;
}

TEST(InjectReaperCa, TheSecretsCaCrtIsMountedAndNamedByTheEnv) {
  for (const json& t : {default_template(), customized_template()}) {
    Injected r = must_inject(t, tls_options());
    const json& spec = pod_spec(r.base_job_template);
    const json& s = spec["initContainers"].back();
    const json* ca = find_env(s, "LIFELINE_REAPER_CA_FILE");
    ASSERT_NE(ca, nullptr);
    EXPECT_EQ((*ca)["value"], "/var/run/secrets/lifeline-reaper-ca/ca.crt");
    ASSERT_EQ(s["volumeMounts"].size(), 2u);
    EXPECT_EQ(s["volumeMounts"][1], json({{"name", "lifeline-reaper-ca"},
                                          {"mountPath", "/var/run/secrets/lifeline-reaper-ca"},
                                          {"readOnly", true}}));
    const json& volume = spec["volumes"].back();
    EXPECT_EQ(volume["name"], "lifeline-reaper-ca");
    EXPECT_EQ(volume["secret"]["secretName"], "{{ lifeline_reaper_ca_secret }}");
    EXPECT_EQ(volume["secret"]["items"], json::array({{{"key", "ca.crt"}, {"path", "ca.crt"}}}));
    EXPECT_FALSE(volume["secret"].contains("optional"));  // a missing CA must not go unnoticed
    const json& var = r.base_job_template["variables"]["properties"]["lifeline_reaper_ca_secret"];
    EXPECT_EQ(var["default"], "lifeline-reaper-ca");
    EXPECT_EQ(var["type"], "string");
    EXPECT_TRUE(undeclared_placeholders(r.base_job_template).empty());
  }
}

TEST(InjectReaperCa, InjectingAgainWithoutItRemovesVolumeMountEnvAndVariable) {
  Injected with = must_inject(default_template(), tls_options());
  Injected again = must_inject(with.base_job_template, tls_options());
  EXPECT_EQ(again.base_job_template, with.base_job_template);  // idempotent with a CA too
  InjectOptions plain = tls_options();
  plain.reaper_ca_secret.clear();
  EXPECT_EQ(must_inject(with.base_job_template, plain).base_job_template,
            must_inject(default_template(), plain).base_job_template);
}

TEST(InjectReaperCa, RefusedWithHttpOrABadSecretName) {
  InjectOptions http = tls_options();
  http.reaper_url = "http://lifeline-reaper.lifeline:8080";
  EXPECT_NE(must_fail(default_template(), http).find("only used with an https:// reaper URL"), std::string::npos);
  InjectOptions bad = tls_options();
  bad.reaper_ca_secret = "Reaper_CA";
  EXPECT_NE(must_fail(default_template(), bad).find("reaper CA Secret name \"Reaper_CA\""), std::string::npos);
}

TEST(InjectDefaultTemplate, ProbesResourcesAndSecurityContext) {
  Injected r = must_inject(default_template(), golden_options());
  const json& s = pod_spec(r.base_job_template)["initContainers"][0];
  EXPECT_EQ(s["livenessProbe"]["httpGet"]["path"], "/healthz");
  EXPECT_EQ(s["livenessProbe"]["httpGet"]["port"], 8790);
  EXPECT_EQ(s["readinessProbe"]["httpGet"]["path"], "/readyz");
  EXPECT_EQ(s["readinessProbe"]["httpGet"]["port"], 8790);
  EXPECT_EQ(s["startupProbe"]["httpGet"]["path"], "/healthz");
  EXPECT_EQ(s["resources"]["requests"]["cpu"], "10m");
  EXPECT_EQ(s["resources"]["requests"]["memory"], "8Mi");
  EXPECT_EQ(s["resources"]["limits"]["memory"], "32Mi");
  const json& sc = s["securityContext"];
  EXPECT_EQ(sc["readOnlyRootFilesystem"], true);
  EXPECT_EQ(sc["allowPrivilegeEscalation"], false);
  EXPECT_EQ(sc["capabilities"]["drop"], json({"ALL"}));
  EXPECT_EQ(sc["seccompProfile"]["type"], "RuntimeDefault");
  // Prefect's default does not say which UID the flow runs as (its images run as root): the
  // sidecar runs as root with CAP_KILL only, and the operator is told.
  EXPECT_EQ(sc["runAsUser"], 0);
  EXPECT_EQ(sc["capabilities"]["add"], json({"KILL"}));
  EXPECT_TRUE(mentions(r.warnings, "CAP_KILL"));
}

TEST(InjectDefaultTemplate, DeclaresEveryLifelineVariableWithDefaults) {
  InjectOptions o = golden_options();
  o.interval = "2s";
  o.ttl = "20s";
  o.kill_grace = "5s";
  Injected r = must_inject(default_template(), o);
  const json& p = r.base_job_template["variables"]["properties"];
  EXPECT_EQ(p["lifeline_image"]["default"], "lifeline/sidecar:0.1.0");
  EXPECT_EQ(p["lifeline_reaper_url"]["default"], "http://lifeline-reaper.lifeline:8080");
  EXPECT_EQ(p["lifeline_token_secret"]["default"], "lifeline-token");
  EXPECT_EQ(p["lifeline_interval"]["default"], "2s");
  EXPECT_EQ(p["lifeline_ttl"]["default"], "20s");
  EXPECT_EQ(p["lifeline_kill_grace"]["default"], "5s");
  EXPECT_EQ(p["lifeline_on_unreachable"]["default"], "stop");
  EXPECT_EQ(p["lifeline_on_unreachable"]["enum"], json({"stop", "continue"}));
  for (const char* v : {"lifeline_image", "lifeline_reaper_url", "lifeline_token_secret",
                        "lifeline_interval", "lifeline_ttl", "lifeline_kill_grace",
                        "lifeline_on_unreachable"}) {
    EXPECT_EQ(p[v]["type"], "string") << v;
    EXPECT_FALSE(p[v]["description"].get<std::string>().empty()) << v;
    EXPECT_FALSE(p[v]["title"].get<std::string>().empty()) << v;
  }
}

TEST(InjectDefaultTemplate, LeavesEverythingElseEqual) {
  const json original = default_template();
  Injected r = must_inject(original, golden_options());
  EXPECT_EQ(strip_lifeline(r.base_job_template, false), original);
  // backoffLimit stays Prefect's placeholder, whose default is 0: nothing to warn about.
  EXPECT_EQ(r.base_job_template["job_configuration"]["job_manifest"]["spec"]["backoffLimit"],
            "{{ backoff_limit }}");
  EXPECT_FALSE(mentions(r.warnings, "backoffLimit"));
}

TEST(InjectDefaultTemplate, EveryPlaceholderIsDeclared) {
  for (const InjectOptions& o : {golden_options(), legacy_options()}) {
    Injected r = must_inject(default_template(), o);
    EXPECT_EQ(undeclared_placeholders(r.base_job_template), std::set<std::string>{});
    const auto used = find_placeholders(r.base_job_template["job_configuration"]);
    for (const char* v : {"lifeline_image", "lifeline_reaper_url", "lifeline_token_secret",
                          "lifeline_interval", "lifeline_ttl", "lifeline_kill_grace",
                          "lifeline_on_unreachable"})
      EXPECT_EQ(used.count(v), 1u) << v << " is declared but never used";
  }
}

// ---- a customized template ----------------------------------------------------------------

TEST(InjectCustomizedTemplate, KeepsUserContainersVolumesEnvAndScheduling) {
  const json original = customized_template();
  Injected r = must_inject(original, golden_options());
  json& spec = pod_spec(r.base_job_template);
  const json& orig_spec = original["job_configuration"]["job_manifest"]["spec"]["template"]["spec"];

  ASSERT_EQ(spec["initContainers"].size(), 2u);
  EXPECT_EQ(spec["initContainers"][0], orig_spec["initContainers"][0]);
  EXPECT_EQ(spec["initContainers"][1]["name"], "lifeline");
  EXPECT_EQ(spec["containers"], orig_spec["containers"]);
  ASSERT_EQ(spec["volumes"].size(), 3u);
  EXPECT_EQ(spec["volumes"][0], orig_spec["volumes"][0]);
  EXPECT_EQ(spec["volumes"][1], orig_spec["volumes"][1]);
  EXPECT_EQ(spec["volumes"][2]["name"], "lifeline-token");
  EXPECT_EQ(spec["nodeSelector"], orig_spec["nodeSelector"]);
  EXPECT_EQ(spec["tolerations"], orig_spec["tolerations"]);
  EXPECT_EQ(strip_lifeline(r.base_job_template, true), original);
  EXPECT_EQ(undeclared_placeholders(r.base_job_template), std::set<std::string>{});
}

TEST(InjectCustomizedTemplate, SidecarRunsAsThePodsUidWithoutCapabilities) {
  Injected r = must_inject(customized_template(), golden_options());
  const json& sc = pod_spec(r.base_job_template)["initContainers"][1]["securityContext"];
  EXPECT_EQ(sc["runAsUser"], 1000);
  EXPECT_EQ(sc["runAsNonRoot"], true);
  EXPECT_FALSE(sc["capabilities"].contains("add"));
  EXPECT_FALSE(mentions(r.warnings, "CAP_KILL"));
  // The Cloud SQL proxy counts as workload for --target auto: the operator is told.
  EXPECT_TRUE(mentions(r.warnings, "--target auto"));
}

TEST(InjectCustomizedTemplate, FlowContainerUidWinsAndPlaceholdersAreCopied) {
  json t = customized_template();
  pod_spec(t)["containers"][0]["securityContext"] = {{"runAsUser", "{{ flow_uid }}"}};
  t["variables"]["properties"]["flow_uid"] = {{"type", "integer"}, {"default", 2000}};
  Injected r = must_inject(t, golden_options());
  const json& sc = pod_spec(r.base_job_template)["initContainers"][1]["securityContext"];
  EXPECT_EQ(sc["runAsUser"], "{{ flow_uid }}");
  EXPECT_FALSE(sc.contains("runAsNonRoot"));
}

TEST(InjectCustomizedTemplate, RunAsUserOption) {
  InjectOptions o = golden_options();
  o.run_as_user = 1000;
  Injected r = must_inject(default_template(), o);
  const json& sc = pod_spec(r.base_job_template)["initContainers"][0]["securityContext"];
  EXPECT_EQ(sc["runAsUser"], 1000);
  EXPECT_EQ(sc["runAsNonRoot"], true);
  EXPECT_FALSE(sc["capabilities"].contains("add"));

  o.run_as_user = 1001;  // the customized pod runs as 1000
  EXPECT_NE(must_fail(customized_template(), o).find("could not signal"), std::string::npos);
}

// ---- idempotency and modes ----------------------------------------------------------------

TEST(InjectIdempotency, InjectingTwiceGivesTheSameDocument) {
  for (const json& t : {default_template(), customized_template()}) {
    for (const InjectOptions& o : {golden_options(), legacy_options()}) {
      Injected once = must_inject(t, o);
      Injected twice = must_inject(once.base_job_template, o);
      EXPECT_EQ(twice.base_job_template, once.base_job_template);
      EXPECT_EQ(twice.base_job_template.dump(2), once.base_job_template.dump(2));
    }
  }
}

TEST(InjectIdempotency, SwitchingModesReplacesTheSidecar) {
  for (const json& t : {default_template(), customized_template()}) {
    Injected native = must_inject(t, golden_options());
    Injected legacy = must_inject(t, legacy_options());
    EXPECT_EQ(must_inject(native.base_job_template, legacy_options()).base_job_template,
              legacy.base_job_template);
    EXPECT_EQ(must_inject(legacy.base_job_template, golden_options()).base_job_template,
              native.base_job_template);
  }
}

TEST(InjectIdempotency, NewOptionsReplaceOldDefaults) {
  Injected first = must_inject(default_template(), golden_options());
  InjectOptions o = golden_options();
  o.ttl = "1m";
  o.image = "lifeline/sidecar:0.2.0";
  Injected second = must_inject(first.base_job_template, o);
  const json& p = second.base_job_template["variables"]["properties"];
  EXPECT_EQ(p["lifeline_ttl"]["default"], "1m");
  EXPECT_EQ(p["lifeline_image"]["default"], "lifeline/sidecar:0.2.0");
  EXPECT_EQ(pod_spec(second.base_job_template)["initContainers"].size(), 1u);
  EXPECT_EQ(pod_spec(second.base_job_template)["volumes"].size(), 1u);
}

TEST(InjectLegacyMode, SidecarIsARegularContainerRightAfterTheFlowContainer) {
  Injected r = must_inject(customized_template(), legacy_options());
  json& spec = pod_spec(r.base_job_template);
  ASSERT_EQ(spec["containers"].size(), 3u);
  EXPECT_EQ(spec["containers"][0]["name"], "prefect-job");
  EXPECT_EQ(spec["containers"][1]["name"], "lifeline");
  EXPECT_EQ(spec["containers"][2]["name"], "cloudsql-proxy");
  EXPECT_FALSE(spec["containers"][1].contains("restartPolicy"));
  // It exits once the workload is gone, so the Job can complete.
  EXPECT_EQ(spec["containers"][1]["args"], json({"run", "--target", "auto"}));
  EXPECT_EQ(find_env(spec["containers"][1], "LIFELINE_AWAIT_SIGTERM"), nullptr);
  ASSERT_EQ(spec["initContainers"].size(), 1u);
  EXPECT_EQ(spec["initContainers"][0]["name"], "fetch-code");
  EXPECT_EQ(spec["shareProcessNamespace"], true);

  Injected d = must_inject(default_template(), legacy_options());
  EXPECT_FALSE(pod_spec(d.base_job_template).contains("initContainers"));
  EXPECT_EQ(strip_lifeline(d.base_job_template, false), default_template());
}

// ---- backoffLimit -------------------------------------------------------------------------

TEST(InjectBackoffLimit, KeepsAPositiveValueButWarns) {
  json t = customized_template();
  t["job_configuration"]["job_manifest"]["spec"]["backoffLimit"] = 3;
  Injected r = must_inject(t, golden_options());
  EXPECT_EQ(r.base_job_template["job_configuration"]["job_manifest"]["spec"]["backoffLimit"], 3);
  EXPECT_TRUE(mentions(r.warnings, "backoffLimit is 3"));
}

TEST(InjectBackoffLimit, SetsZeroWhenAbsent) {
  json t = customized_template();
  t["job_configuration"]["job_manifest"]["spec"].erase("backoffLimit");
  Injected r = must_inject(t, golden_options());
  EXPECT_EQ(r.base_job_template["job_configuration"]["job_manifest"]["spec"]["backoffLimit"], 0);
  EXPECT_TRUE(mentions(r.warnings, "backoffLimit was absent"));
}

TEST(InjectBackoffLimit, WarnsWhenThePlaceholderDefaultIsPositive) {
  json t = default_template();
  t["variables"]["properties"]["backoff_limit"]["default"] = 2;
  Injected r = must_inject(t, golden_options());
  EXPECT_TRUE(mentions(r.warnings, "defaults to 2"));
  t["variables"]["properties"]["backoff_limit"].erase("default");
  EXPECT_TRUE(mentions(must_inject(t, golden_options()).warnings, "without a default"));
}

TEST(InjectShareProcessNamespace, ForcedOnWithAWarning) {
  json t = customized_template();
  pod_spec(t)["shareProcessNamespace"] = false;
  Injected r = must_inject(t, golden_options());
  EXPECT_EQ(pod_spec(r.base_job_template)["shareProcessNamespace"], true);
  EXPECT_TRUE(mentions(r.warnings, "shareProcessNamespace"));
}

// ---- refusals -----------------------------------------------------------------------------

TEST(InjectRefusesBadTemplates, MissingStructure) {
  EXPECT_NE(must_fail(json::array(), golden_options()).find("JSON object"), std::string::npos);
  EXPECT_NE(must_fail(json::object(), golden_options()).find("job_configuration"),
            std::string::npos);
  json t = default_template();
  t["job_configuration"].erase("job_manifest");
  EXPECT_NE(must_fail(t, golden_options()).find("job_configuration.job_manifest"),
            std::string::npos);
  t = default_template();
  t["job_configuration"]["job_manifest"] = "{{ job_manifest }}";
  EXPECT_NE(must_fail(t, golden_options()).find("must be an object"), std::string::npos);
  t = default_template();
  t["job_configuration"]["job_manifest"]["spec"].erase("template");
  EXPECT_NE(must_fail(t, golden_options()).find("template"), std::string::npos);
  t = default_template();
  t["job_configuration"]["job_manifest"]["kind"] = "CronJob";
  EXPECT_NE(must_fail(t, golden_options()).find("Job"), std::string::npos);
}

TEST(InjectRefusesBadTemplates, Containers) {
  json t = default_template();
  pod_spec(t).erase("containers");
  EXPECT_NE(must_fail(t, golden_options()).find("no containers"), std::string::npos);
  t = default_template();
  pod_spec(t)["containers"] = json::array();
  EXPECT_NE(must_fail(t, golden_options()).find("empty"), std::string::npos);
  t = default_template();
  pod_spec(t)["containers"] = "{{ containers }}";
  EXPECT_NE(must_fail(t, golden_options()).find("must be a list"), std::string::npos);
  t = customized_template();
  std::swap(pod_spec(t)["containers"][0], pod_spec(t)["containers"][1]);
  std::string m = must_fail(t, golden_options());
  EXPECT_NE(m.find("containers[0]"), std::string::npos);
  EXPECT_NE(m.find("cloudsql-proxy"), std::string::npos);
  t = default_template();
  pod_spec(t)["containers"][0]["name"] = "lifeline";
  EXPECT_NE(must_fail(t, golden_options()).find("prefect-job"), std::string::npos);
}

TEST(InjectRefusesBadTemplates, RestartPolicyVolumesAndUnknownUid) {
  json t = default_template();
  pod_spec(t)["restartPolicy"] = "OnFailure";
  EXPECT_NE(must_fail(t, golden_options()).find("Never"), std::string::npos);
  t = default_template();
  pod_spec(t).erase("restartPolicy");
  EXPECT_NE(must_fail(t, golden_options()).find("Never"), std::string::npos);
  t = default_template();
  pod_spec(t)["volumes"] = "{{ volumes }}";
  EXPECT_NE(must_fail(t, golden_options()).find("volumes"), std::string::npos);
  t = default_template();
  pod_spec(t)["initContainers"] = "{{ init }}";
  EXPECT_NE(must_fail(t, golden_options()).find("initContainers"), std::string::npos);
  t = default_template();
  pod_spec(t)["securityContext"] = {{"runAsNonRoot", true}};
  EXPECT_NE(must_fail(t, golden_options()).find("runAsUser"), std::string::npos);
  t["variables"] = "nope";
  pod_spec(t).erase("securityContext");
  EXPECT_NE(must_fail(t, golden_options()).find("variables"), std::string::npos);
}

TEST(InjectRefusesBadOptions, EachWithAClearMessage) {
  const json t = default_template();
  auto fails_with = [&](auto change, const char* needle) {
    InjectOptions o = golden_options();
    change(o);
    std::string m = must_fail(t, o);
    EXPECT_NE(m.find(needle), std::string::npos) << m;
  };
  fails_with([](InjectOptions& o) { o.image.clear(); }, "image");
  fails_with([](InjectOptions& o) { o.reaper_url = "lifeline-reaper:8080"; }, "http://");
  fails_with([](InjectOptions& o) { o.token_secret_name = "Bad_Name"; }, "Secret name");
  fails_with([](InjectOptions& o) { o.token_secret_key = "a/b"; }, "Secret key");
  fails_with([](InjectOptions& o) { o.interval = "5"; }, "interval");
  fails_with([](InjectOptions& o) { o.ttl = "-30s"; }, "ttl");
  fails_with([](InjectOptions& o) { o.kill_grace = "10 parsecs"; }, "kill grace");
  fails_with([](InjectOptions& o) { o.interval = "30s"; }, "shorter than the ttl");
  fails_with([](InjectOptions& o) { o.kill_grace = "29s"; }, "kill grace (29s)");
  fails_with([](InjectOptions& o) { o.on_unreachable = "ignore"; }, "on-unreachable");
  fails_with([](InjectOptions& o) { o.target.clear(); }, "target");
  fails_with([](InjectOptions& o) { o.run_as_user = -1; }, "run_as_user");
  // A long kill grace is fine when the sidecar never stops the workload.
  InjectOptions o = golden_options();
  o.kill_grace = "29s";
  o.on_unreachable = "continue";
  EXPECT_TRUE(inject_lifeline(t, o).ok());
}

// ---- placeholders -------------------------------------------------------------------------

TEST(Placeholders, FoundLikePrefectFindsThem) {
  json v = {{"a", "{{ one }}"},
            {"b", {"{{two}}", "x-{{  three  }}-y {{ four }}"}},
            {"c", {{"d", "{{ prefect.variables.x }}"}}},
            {"e", 5},
            {"f", "{ not }"}};
  EXPECT_EQ(find_placeholders(v),
            (std::set<std::string>{"one", "two", "three", "four", "prefect.variables.x"}));
}

TEST(Placeholders, UndeclaredAreReportedButPrefectReferencesAreNot) {
  json t = default_template();
  t["job_configuration"]["job_manifest"]["spec"]["activeDeadlineSeconds"] = "{{ deadline }}";
  pod_spec(t)["containers"][0]["workingDir"] = "{{ prefect.variables.workdir }}";
  EXPECT_EQ(undeclared_placeholders(t), std::set<std::string>{"deadline"});
  EXPECT_EQ(undeclared_placeholders(default_template()), std::set<std::string>{});
  EXPECT_EQ(undeclared_placeholders(customized_template()), std::set<std::string>{});
}

// ---- the committed manifest ---------------------------------------------------------------

TEST(CommittedBaseJobTemplate, IsTheInjectorsOutputOnPrefectsDefault) {
  const std::string path = std::string(LIFELINE_MANIFESTS_DIR) + "/prefect/base-job-template.json";
  Injected r = must_inject(default_template(), golden_options());
  const std::string expected = r.base_job_template.dump(2) + "\n";
  if (std::getenv("LIFELINE_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path) << expected;
    GTEST_SKIP() << "rewrote " << path;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << "missing " << path
                         << " (regenerate it: LIFELINE_UPDATE_GOLDEN=1 inject_test)";
  std::stringstream committed;
  committed << in.rdbuf();
  EXPECT_EQ(committed.str(), expected)
      << path << " drifted from the injector; regenerate it with LIFELINE_UPDATE_GOLDEN=1 "
      << "inject_test and review the diff";
}

}  // namespace
}  // namespace lifeline::sidecar
