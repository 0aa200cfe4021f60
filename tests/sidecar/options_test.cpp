#include "sidecar/options.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

namespace lifeline::sidecar {
namespace {

constexpr const char* kId = "6F0E2C1A-1111-4222-8333-444455556666";

struct Env {
  std::map<std::string, std::string, std::less<>> vars;
  EnvLookup lookup() const {
    return [this](std::string_view k) -> std::optional<std::string> {
      auto it = vars.find(k);
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
  }
};

Result<Invocation> parse(std::vector<std::string> args, const Env& env = {}) {
  return parse_command_line(args, env.lookup());
}

std::vector<std::string> base(std::vector<std::string> extra = {}) {
  std::vector<std::string> a = {"exec", "--run-id", kId, "--reaper-url", "http://reaper:8080", "--holder", "pod-1"};
  a.insert(a.end(), extra.begin(), extra.end());
  a.insert(a.end(), {"--", "python", "-m", "flow"});
  return a;
}

TEST(Options, DefaultsFromTheContract) {
  auto r = parse(base());
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Options& o = r->options;
  EXPECT_EQ(o.verb, Verb::exec);
  EXPECT_EQ(o.run_id, "6f0e2c1a-1111-4222-8333-444455556666");  // normalized
  EXPECT_EQ(o.interval, std::chrono::seconds(5));
  EXPECT_EQ(o.ttl, std::chrono::seconds(30));
  EXPECT_EQ(o.kill_grace, std::chrono::seconds(10));
  EXPECT_EQ(o.linger_after_stop, std::chrono::seconds(0));
  EXPECT_EQ(o.await_sigterm, std::chrono::seconds(0));
  EXPECT_EQ(o.on_unreachable, OnUnreachable::stop);
  EXPECT_EQ(o.target.kind, TargetSpec::Kind::auto_detect);
  EXPECT_EQ(o.listen.host, "0.0.0.0");
  EXPECT_EQ(o.listen.port, 8790);
  EXPECT_EQ(o.reaper_url.host, "reaper");
  EXPECT_EQ(o.reaper_url.port, 8080);
  EXPECT_EQ(o.command, (std::vector<std::string>{"python", "-m", "flow"}));
  EXPECT_LT(o.request_timeout(), o.interval);
}

TEST(Options, EnvironmentAndFlagWins) {
  Env env;
  env.vars = {{"LIFELINE_RUN_ID", kId}, {"LIFELINE_REAPER_URL", "http://r:1"}, {"LIFELINE_INTERVAL", "2s"},
              {"LIFELINE_TTL", "20s"}, {"HOSTNAME", "pod-from-env"}, {"NODE_NAME", "node-7"},
              {"LIFELINE_ON_UNREACHABLE", "continue"}, {"LIFELINE_TARGET", "name:python"}};
  auto r = parse({"run", "--interval", "1s"}, env);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->options.verb, Verb::run);
  EXPECT_EQ(r->options.interval, std::chrono::seconds(1));
  EXPECT_EQ(r->options.ttl, std::chrono::seconds(20));
  EXPECT_EQ(r->options.holder, "pod-from-env");
  EXPECT_EQ(r->options.node, "node-7");
  EXPECT_EQ(r->options.on_unreachable, OnUnreachable::keep_running);
  EXPECT_EQ(r->options.target.kind, TargetSpec::Kind::name);
  EXPECT_EQ(r->options.target.comm, "python");
}

TEST(Options, LingerAfterStopFromFlagOrEnvironmentAndZeroAllowed) {
  auto r = parse(base({"--linger-after-stop", "45s"}));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->options.linger_after_stop, std::chrono::seconds(45));
  Env env;
  env.vars = {{"LIFELINE_LINGER_AFTER_STOP", "1m"}};
  r = parse(base(), env);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->options.linger_after_stop, std::chrono::minutes(1));
  r = parse(base({"--linger-after-stop", "0s"}), env);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->options.linger_after_stop, std::chrono::seconds(0));
  r = parse(base({"--linger-after-stop", "soon"}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("linger-after-stop (from --linger-after-stop)"), std::string::npos)
      << r.error().message;
}

TEST(Options, AwaitSigtermIsForRunModeOnly) {
  Env env;
  env.vars = {{"LIFELINE_RUN_ID", kId}, {"LIFELINE_REAPER_URL", "http://r:1"}, {"HOSTNAME", "p"},
              {"LIFELINE_AWAIT_SIGTERM", "1h"}};
  auto r = parse({"run"}, env);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->options.await_sigterm, std::chrono::hours(1));
  r = parse({"run", "--await-sigterm", "0s"}, env);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->options.await_sigterm, std::chrono::seconds(0));
  // In exec mode the sidecar is the container's main process: waiting would hold the Job open.
  r = parse(base(), env);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("await-sigterm (from LIFELINE_AWAIT_SIGTERM) is for run mode"),
            std::string::npos)
      << r.error().message;
  r = parse(base({"--await-sigterm", "0s"}), env);
  ASSERT_TRUE(r.ok()) << r.error().message;
  r = parse({"run", "--await-sigterm", "-5s"}, env);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("await-sigterm (from --await-sigterm)"), std::string::npos) << r.error().message;
}

TEST(Options, RunIdFallsBackToPrefectsVariable) {
  Env env;
  env.vars = {{"PREFECT__FLOW_RUN_ID", kId}, {"LIFELINE_REAPER_URL", "http://r:1"}, {"HOSTNAME", "p"}};
  auto r = parse({}, env);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->options.verb, Verb::run);
  EXPECT_EQ(r->options.run_id, "6f0e2c1a-1111-4222-8333-444455556666");
}

TEST(Options, EqualsFormAndTargets) {
  auto r = parse({"run", "--run-id=" + std::string(kId), "--reaper-url=http://r", "--holder=p", "--target=pid:42"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->options.target.kind, TargetSpec::Kind::pid);
  EXPECT_EQ(r->options.target.pid, 42);
  EXPECT_FALSE(parse_target("pid:x").ok());
  EXPECT_FALSE(parse_target("pid:0").ok());
  EXPECT_FALSE(parse_target("name:").ok());
  EXPECT_FALSE(parse_target("everything").ok());
  EXPECT_EQ(parse_target("none")->kind, TargetSpec::Kind::none);
}

TEST(Options, RunIdNotAUuid) {
  auto r = parse({"exec", "--run-id", "abc", "--reaper-url", "http://r", "--holder", "p", "--", "true"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not a UUID"), std::string::npos) << r.error().message;
}

TEST(Options, MissingRunIdAndReaperUrl) {
  auto r = parse({"exec", "--reaper-url", "http://r", "--holder", "p", "--", "true"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("run id required"), std::string::npos);
  r = parse({"exec", "--run-id", kId, "--holder", "p", "--", "true"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("reaper URL required"), std::string::npos) << r.error().message;
}

TEST(Options, BadDurationNamesTheSettingAndItsSource) {
  auto r = parse(base({"--interval", "5"}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("interval (from --interval)"), std::string::npos) << r.error().message;
  Env env;
  env.vars = {{"LIFELINE_KILL_GRACE", "-1s"}};
  r = parse(base(), env);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("LIFELINE_KILL_GRACE"), std::string::npos) << r.error().message;
  EXPECT_FALSE(parse(base({"--ttl", "10x"})).ok());
  EXPECT_FALSE(parse(base({"--interval", "0s"})).ok());
}

TEST(Options, FencingRuleIsCheckedAtStartup) {
  auto r = parse(base({"--interval", "10s", "--ttl", "20s"}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("fencing rule"), std::string::npos) << r.error().message;
  // With fencing off the same numbers are accepted.
  EXPECT_TRUE(parse(base({"--interval", "10s", "--ttl", "20s", "--on-unreachable", "continue"})).ok());
}

TEST(Options, OtherUsageErrors) {
  EXPECT_FALSE(parse(base({"--on-unreachable", "maybe"})).ok());
  EXPECT_FALSE(parse(base({"--bogus", "1"})).ok());
  EXPECT_FALSE(parse(base({"--listen", "nope"})).ok());
  EXPECT_FALSE(parse({"exec", "--run-id", kId, "--reaper-url", "http://r", "--holder", "p"}).ok());  // no CMD
  // A CA file means nothing without TLS.
  EXPECT_FALSE(parse(base({"--reaper-ca-file", "ca.pem"})).ok());
  EXPECT_FALSE(parse({"frobnicate"}).ok());
  EXPECT_FALSE(parse(base({"--target", "auto"})).ok());  // exec has no target
}

TEST(Options, HttpsReaperWithOptionalCaFile) {
  auto sys = parse({"exec", "--run-id", kId, "--reaper-url", "https://reaper.lifeline:8443", "--holder", "p", "--", "x"});
  ASSERT_TRUE(sys.ok()) << sys.error().message;
  EXPECT_TRUE(sys->options.reaper_url.tls);
  EXPECT_EQ(sys->options.reaper_url.port, 8443);
  EXPECT_EQ(sys->options.reaper_ca_file, "");  // the system store
  auto own = parse({"exec", "--run-id", kId, "--reaper-url", "https://r", "--reaper-ca-file", "/etc/ca.pem",
                    "--holder", "p", "--", "x"});
  ASSERT_TRUE(own.ok()) << own.error().message;
  EXPECT_EQ(own->options.reaper_ca_file, "/etc/ca.pem");
  EXPECT_EQ(own->options.reaper_url.port, 443);
}

TEST(Options, HelpAndVersionOnEveryVerb) {
  for (std::string verb : {"run", "exec", "inject"}) {
    auto h = parse({verb, "--help"});
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->kind, Invocation::Kind::print);
    EXPECT_NE(h->text.find("usage: lifeline-sidecar"), std::string::npos);
    auto v = parse({verb, "--version"});
    ASSERT_TRUE(v.ok());
    EXPECT_NE(v->text.find("lifeline-sidecar "), std::string::npos);
  }
}

TEST(Options, InjectFlags) {
  auto r = parse({"inject", "--image", "img:1", "--reaper-url", "http://r", "--in", "a.json", "--legacy-sidecar"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->kind, Invocation::Kind::inject);
  EXPECT_EQ(r->inject.in_path, "a.json");
  EXPECT_TRUE(r->inject.out_path.empty());
  EXPECT_FALSE(parse({"inject", "--run-id", kId}).ok());
  auto ca = parse({"inject", "--image", "img:1", "--reaper-url", "https://r", "--reaper-ca-secret", "reaper-ca"});
  ASSERT_TRUE(ca.ok()) << ca.error().message;
  EXPECT_NE(std::find(ca->inject.values.begin(), ca->inject.values.end(),
                      std::pair<std::string, std::string>{"reaper-ca-secret", "reaper-ca"}),
            ca->inject.values.end());
}

}  // namespace
}  // namespace lifeline::sidecar
