#include "reaper/config_loader.hpp"

#include <toml++/toml.h>

#include "shared/http/tls_context.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <set>
#include <sstream>

namespace lifeline::reaper {
namespace {

// Collects errors with positions for one source file.
class Errors {
 public:
  Errors(std::string file, std::vector<ConfigError>& out) : file_(std::move(file)), out_(out) {}

  void add(const toml::source_region& where, std::string message) {
    out_.push_back({file_, where.begin.line, where.begin.column, std::move(message)});
  }
  void add_unpositioned(std::string message) { out_.push_back({file_, 0, 0, std::move(message)}); }
  const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::vector<ConfigError>& out_;
};

// Reads typed keys of one TOML table, remembering which were seen so that the rest
// can be reported as unknown. Each getter leaves `out` untouched when the key is
// absent or invalid (an error is recorded for the latter).
class TableReader {
 public:
  TableReader(const toml::table& table, std::string name, Errors& errors)
      : table_(table), name_(std::move(name)), errors_(errors) {}

  const toml::node* find(std::string_view key) {
    seen_.insert(std::string(key));
    return table_.get(key);
  }
  bool has(std::string_view key) const { return table_.contains(key); }

  bool string(std::string_view key, std::string& out) {
    const auto* n = find(key);
    if (n == nullptr) return false;
    if (const auto* v = n->as_string()) {
      out = v->get();
      return true;
    }
    type_error(*n, key, "a string");
    return false;
  }

  bool boolean(std::string_view key, bool& out) {
    const auto* n = find(key);
    if (n == nullptr) return false;
    if (const auto* v = n->as_boolean()) {
      out = v->get();
      return true;
    }
    type_error(*n, key, "true or false");
    return false;
  }

  template <typename Int>
  bool integer(std::string_view key, Int& out, std::int64_t min,
               std::int64_t max = std::numeric_limits<std::int64_t>::max()) {
    const auto* n = find(key);
    if (n == nullptr) return false;
    const auto* v = n->as_integer();
    if (v == nullptr) {
      type_error(*n, key, "an integer");
      return false;
    }
    std::int64_t x = v->get();
    if (x < min || x > max) {
      std::string range = max == std::numeric_limits<std::int64_t>::max()
                              ? "at least " + std::to_string(min)
                              : "between " + std::to_string(min) + " and " + std::to_string(max);
      errors_.add(n->source(), qualified(key) + " must be " + range + ", not " + std::to_string(x));
      return false;
    }
    out = static_cast<Int>(x);
    return true;
  }

  // A float; integers are accepted too (multiplier = 2).
  bool number(std::string_view key, double& out, double min, double max) {
    const auto* n = find(key);
    if (n == nullptr) return false;
    double x = 0;
    if (const auto* f = n->as_floating_point()) x = f->get();
    else if (const auto* i = n->as_integer()) x = static_cast<double>(i->get());
    else {
      type_error(*n, key, "a number");
      return false;
    }
    if (!(x >= min && x <= max)) {
      std::ostringstream msg;
      msg << qualified(key) << " must be ";
      if (max == std::numeric_limits<double>::max()) msg << "at least " << min;
      else msg << "between " << min << " and " << max;
      msg << ", not " << x;
      errors_.add(n->source(), msg.str());
      return false;
    }
    out = x;
    return true;
  }

  bool duration(std::string_view key, Duration& out, Duration min = Duration{0}) {
    const auto* n = find(key);
    if (n == nullptr) return false;
    const auto* v = n->as_string();
    if (v == nullptr) {
      type_error(*n, key, "a duration string such as \"5s\"");
      return false;
    }
    auto parsed = parse_duration(v->get());
    if (!parsed) {
      errors_.add(n->source(), qualified(key) + ": " + parsed.error().message);
      return false;
    }
    if (*parsed < min) {
      errors_.add(n->source(), qualified(key) + " must be at least " + format_duration(min));
      return false;
    }
    out = *parsed;
    return true;
  }

  bool string_array(std::string_view key, std::vector<std::string>& out) {
    const auto* n = find(key);
    if (n == nullptr) return false;
    const auto* arr = n->as_array();
    if (arr == nullptr) {
      type_error(*n, key, "an array of strings");
      return false;
    }
    std::vector<std::string> values;
    bool ok = true;
    for (const auto& el : *arr) {
      if (const auto* s = el.as_string()) {
        values.push_back(s->get());
      } else {
        errors_.add(el.source(), qualified(key) + " must hold only strings");
        ok = false;
      }
    }
    if (ok) out = std::move(values);
    return ok;
  }

  void reject_unknown() {
    for (const auto& [k, v] : table_) {
      if (seen_.count(std::string(k.str())) == 0)
        errors_.add(k.source(), "unknown key " + qualified(k.str()));
    }
  }

  const toml::source_region& where(std::string_view key) const {
    static const toml::source_region none{};
    const auto* n = table_.get(key);
    return n != nullptr ? n->source() : none;
  }
  Errors& errors() { return errors_; }
  std::string qualified(std::string_view key) const {
    return name_.empty() ? std::string(key) : name_ + "." + std::string(key);
  }

 private:
  void type_error(const toml::node& n, std::string_view key, const char* expected) {
    errors_.add(n.source(), qualified(key) + " must be " + expected);
  }

  const toml::table& table_;
  std::string name_;
  Errors& errors_;
  std::set<std::string> seen_;
};

std::string trim(std::string s) {
  const char* ws = " \t\r\n";
  auto b = s.find_first_not_of(ws);
  if (b == std::string::npos) return {};
  auto e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

std::string resolve(const std::string& base_file, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_absolute()) return path;
  auto dir = std::filesystem::path(base_file).parent_path();
  return (dir / p).string();
}

// Reads a secret file named by `key`; records an error at the key when it cannot.
std::optional<std::string> read_secret(TableReader& t, std::string_view key, const std::string& path,
                                       const std::string& base_file) {
  std::ifstream in(resolve(base_file, path), std::ios::binary);
  if (!in) {
    t.errors().add(t.where(key), t.qualified(key) + ": cannot read \"" + path + "\"");
    return std::nullopt;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string value = trim(ss.str());
  if (value.empty()) {
    t.errors().add(t.where(key), t.qualified(key) + ": \"" + path + "\" is empty");
    return std::nullopt;
  }
  return value;
}

// A sub-table of the root, or nullptr (with an error when the key is not a table).
const toml::table* section(TableReader& root, std::string_view key) {
  const auto* n = root.find(key);
  if (n == nullptr) return nullptr;
  if (const auto* t = n->as_table()) return t;
  root.errors().add(n->source(), "[" + std::string(key) + "] must be a table");
  return nullptr;
}

// [server] tls_cert_file and tls_key_file: both or neither, and they must load together
// (a certificate that cannot be served is an error now, not at the first handshake).
void read_server_tls(TableReader& t, const std::string& base_file, ServerConfig& c) {
  t.string("tls_cert_file", c.tls_cert_file);
  t.string("tls_key_file", c.tls_key_file);
  if (c.tls_cert_file.empty() != c.tls_key_file.empty()) {
    const char* set = c.tls_cert_file.empty() ? "tls_key_file" : "tls_cert_file";
    const char* missing = c.tls_cert_file.empty() ? "server.tls_cert_file" : "server.tls_key_file";
    t.errors().add(t.where(set), t.qualified(set) + " needs " + missing + " too");
    return;
  }
  if (c.tls_cert_file.empty()) return;
  c.tls_cert_file = resolve(base_file, c.tls_cert_file);
  c.tls_key_file = resolve(base_file, c.tls_key_file);
  auto ctx = http::make_server_tls_context(c.tls_cert_file, c.tls_key_file);
  if (!ctx) {
    const char* key = ctx.error().code == "tls_key" ? "tls_key_file" : "tls_cert_file";
    t.errors().add(t.where(key), t.qualified(key) + ": " + ctx.error().message);
  }
}

void read_server(const toml::table& tbl, Errors& errors, ServerConfig& c) {
  TableReader t(tbl, "server", errors);
  std::string listen;
  if (t.string("listen", listen)) {
    auto hp = parse_host_port(listen);
    if (hp) c.listen = *hp;
    else errors.add(t.where("listen"), "server.listen: " + hp.error().message);
  }
  t.string("token_file", c.token_file);
  if (!c.token_file.empty())
    if (auto token = read_secret(t, "token_file", c.token_file, errors.file())) c.token = *token;
  t.integer("max_body_bytes", c.max_body_bytes, 64, 64 * 1024 * 1024);
  t.integer("max_header_bytes", c.max_header_bytes, 512, 1024 * 1024);
  t.integer("max_connections", c.max_connections, 1);
  t.duration("idle_timeout", c.idle_timeout, Duration{1});
  t.duration("request_timeout", c.request_timeout, Duration{1});
  read_server_tls(t, errors.file(), c);
  t.integer("api_threads", c.api_threads, 1, 64);
  t.reject_unknown();
}

void read_database(const toml::table& tbl, Errors& errors, DatabaseConfig& c) {
  TableReader t(tbl, "database", errors);
  bool has_url = t.string("url", c.url);
  if (has_url && c.url.empty()) errors.add(t.where("url"), "database.url must not be empty");
  t.string("url_file", c.url_file);
  if (!c.url_file.empty()) {
    if (has_url) errors.add(t.where("url_file"), "set database.url or database.url_file, not both");
    else if (auto url = read_secret(t, "url_file", c.url_file, errors.file())) c.url = *url;
  }
  t.integer("pool_size", c.pool_size, 1, 1000);
  t.duration("flush_window", c.flush_window);
  t.integer("max_batch", c.max_batch, 1, 100'000);
  t.duration("commit_timeout", c.commit_timeout, Duration{1});
  t.integer("max_pending", c.max_pending, 1);
  t.reject_unknown();
}

void read_prefect(const toml::table& tbl, Errors& errors, PrefectConfig& c) {
  TableReader t(tbl, "prefect", errors);
  if (t.string("api_url", c.api_url)) {
    auto url = parse_http_url(c.api_url);
    if (!url) errors.add(t.where("api_url"), "prefect.api_url: " + url.error().message);
  }
  t.string("api_key_file", c.api_key_file);
  t.string("auth_string_file", c.auth_string_file);
  if (!c.api_key_file.empty() && !c.auth_string_file.empty())
    errors.add(t.where("auth_string_file"),
               "set prefect.api_key_file (Prefect Cloud) or prefect.auth_string_file (self-hosted), not both");
  if (!c.api_key_file.empty())
    if (auto v = read_secret(t, "api_key_file", c.api_key_file, errors.file())) c.api_key = *v;
  if (!c.auth_string_file.empty())
    if (auto v = read_secret(t, "auth_string_file", c.auth_string_file, errors.file())) c.auth_string = *v;
  t.duration("timeout", c.timeout, Duration{1});
  t.integer("max_in_flight", c.max_in_flight, 1, 10'000);
  t.boolean("emit_events", c.emit_events);
  t.reject_unknown();
}

void read_leases(const toml::table& tbl, Errors& errors, LeasesConfig& c) {
  TableReader t(tbl, "leases", errors);
  t.duration("min_ttl", c.min_ttl, Duration{1});
  t.duration("max_ttl", c.max_ttl, Duration{1});
  t.duration("completion_grace", c.completion_grace);
  if (c.min_ttl > c.max_ttl)
    errors.add(t.where(t.has("max_ttl") ? "max_ttl" : "min_ttl"),
               "leases.min_ttl (" + format_duration(c.min_ttl) + ") must not exceed leases.max_ttl (" +
                   format_duration(c.max_ttl) + ")");
  t.reject_unknown();
}

void read_reaper(const toml::table& tbl, Errors& errors, ReaperLoopConfig& c, const LeasesConfig& leases) {
  TableReader t(tbl, "reaper", errors);
  t.duration("interval", c.interval, Duration{1});
  t.integer("batch_size", c.batch_size, 1, 100'000);
  t.duration("orphan_grace", c.orphan_grace);
  t.string_array("work_pools", c.work_pools);
  t.boolean("dry_run", c.dry_run);
  t.duration("claim_timeout", c.claim_timeout, Duration{1});
  t.duration("status_refresh", c.status_refresh, Duration{1});
  t.duration("retention", c.retention);
  // A lease must outlive every use of it: its longest TTL and the completion check.
  const Duration floor = std::max({leases.max_ttl, leases.completion_grace, Duration{3'600'000}});
  if (c.retention > Duration{0} && c.retention <= floor)
    errors.add(t.where("retention"), "reaper.retention (" + format_duration(c.retention) +
                                         ") must be 0 (keep forever) or longer than " + format_duration(floor) +
                                         " (1 hour, leases.max_ttl and leases.completion_grace)");
  t.reject_unknown();
}

constexpr double kMaxMultiplier = 1000.0;

void read_retry(const toml::table& tbl, Errors& errors, RetryConfig& c) {
  TableReader t(tbl, "retry", errors);
  t.integer("max_attempts", c.max_attempts, 0, 1000);
  t.duration("delay", c.delay);
  t.duration("max_delay", c.max_delay);
  t.number("multiplier", c.multiplier, 1.0, kMaxMultiplier);
  t.number("jitter", c.jitter, 0.0, 1.0);
  if (c.delay > c.max_delay)
    errors.add(t.where(t.has("max_delay") ? "max_delay" : "delay"),
               "retry.delay (" + format_duration(c.delay) + ") must not exceed retry.max_delay (" +
                   format_duration(c.max_delay) + ")");
  t.reject_unknown();
}

void read_policy(const toml::table& tbl, std::size_t index, Errors& errors, const RetryConfig& retry,
                 Policy& p) {
  TableReader t(tbl, "policy[" + std::to_string(index) + "]", errors);
  p.line = static_cast<int>(tbl.source().begin.line);
  std::string s;
  if (t.string("work_pool", s)) p.work_pool = s;
  if (t.string("deployment", s)) p.deployment = s;
  t.string_array("tags", p.tags);
  int attempts = 0;
  if (t.integer("max_attempts", attempts, 0, 1000)) p.max_attempts = attempts;
  Duration d{0};
  if (t.duration("delay", d)) p.delay = d;
  if (t.duration("max_delay", d)) p.max_delay = d;
  double x = 0;
  if (t.number("multiplier", x, 1.0, kMaxMultiplier)) p.multiplier = x;
  if (t.number("jitter", x, 0.0, 1.0)) p.jitter = x;
  if (t.duration("orphan_grace", d)) p.orphan_grace = d;
  if (!p.work_pool && !p.deployment && p.tags.empty() && !t.has("tags"))
    errors.add(tbl.source(), "[[policy]] number " + std::to_string(index + 1) +
                                 " has no matcher: set work_pool, deployment or tags");
  if (t.has("tags") && p.tags.empty() && !p.work_pool && !p.deployment)
    errors.add(t.where("tags"), "[[policy]] number " + std::to_string(index + 1) +
                                    " matches every run: tags is empty and no other matcher is set");
  if (p.work_pool && p.work_pool->empty()) errors.add(t.where("work_pool"), t.qualified("work_pool") + " is empty");
  if (p.deployment && p.deployment->empty())
    errors.add(t.where("deployment"), t.qualified("deployment") + " is empty");
  if (p.delay.value_or(retry.delay) > p.max_delay.value_or(retry.max_delay))
    errors.add(tbl.source(), "[[policy]] number " + std::to_string(index + 1) +
                                 ": delay must not exceed max_delay");
  t.reject_unknown();
}

void read_policies(TableReader& root, Errors& errors, Config& c) {
  const auto* n = root.find("policy");
  if (n == nullptr) return;
  const auto* arr = n->as_array();
  if (arr == nullptr || !arr->is_array_of_tables()) {
    errors.add(n->source(), "policy must be an array of tables ([[policy]])");
    return;
  }
  for (std::size_t i = 0; i < arr->size(); ++i) {
    Policy p;
    read_policy(*arr->get(i)->as_table(), i, errors, c.retry, p);
    c.policies.push_back(std::move(p));
  }
}

}  // namespace

std::string ConfigError::to_string() const {
  if (line == 0) return file + ": " + message;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

ConfigLoad load_config_text(std::string_view text, const std::string& source_name) {
  ConfigLoad out;
  Errors errors(source_name, out.errors);
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    errors.add(e.source(), std::string(e.description()));
    return out;
  }
  Config& c = out.config;
  c.source_path = source_name;
  TableReader top(root, "", errors);
  // [retry] first: policies fall back to it when checking delay against max_delay.
  if (const auto* t = section(top, "retry")) read_retry(*t, errors, c.retry);
  if (const auto* t = section(top, "server")) read_server(*t, errors, c.server);
  if (const auto* t = section(top, "database")) read_database(*t, errors, c.database);
  if (const auto* t = section(top, "prefect")) read_prefect(*t, errors, c.prefect);
  if (const auto* t = section(top, "leases")) read_leases(*t, errors, c.leases);
  if (const auto* t = section(top, "reaper")) read_reaper(*t, errors, c.reaper, c.leases);
  read_policies(top, errors, c);
  top.reject_unknown();
  std::stable_sort(out.errors.begin(), out.errors.end(), [](const ConfigError& a, const ConfigError& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  });
  return out;
}

ConfigLoad load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ConfigLoad out;
    out.errors.push_back({path, 0, 0, "cannot read the configuration file"});
    return out;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return load_config_text(ss.str(), path);
}

}  // namespace lifeline::reaper
