#include "reaper/config_report.hpp"

#include <sstream>

#include "shared/http/message.hpp"

namespace lifeline::reaper {
namespace {

// TOML basic strings share JSON's escapes for what we print.
std::string q(std::string_view s) { return http::json_quote(s); }
std::string d(Duration v) { return q(format_duration(v)); }

std::string list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + q(items[i]);
  return out + "]";
}

std::string num(double x) {
  std::ostringstream ss;
  ss << x;
  std::string s = ss.str();
  if (s.find_first_of(".e") == std::string::npos) s += ".0";  // keep it a TOML float
  return s;
}

std::string secret_note(const std::string& value) { return value.empty() ? "" : "  # loaded, redacted"; }

}  // namespace

std::string redact_conninfo(std::string_view conninfo) {
  std::string s(conninfo);
  if (s.rfind("postgresql://", 0) == 0 || s.rfind("postgres://", 0) == 0) {
    auto scheme_end = s.find("://") + 3;
    auto at = s.find('@', scheme_end);
    auto slash = s.find('/', scheme_end);
    if (at == std::string::npos || (slash != std::string::npos && slash < at)) {
      // No userinfo; a password may still be a query parameter.
    } else {
      auto colon = s.find(':', scheme_end);
      if (colon != std::string::npos && colon < at) s.replace(colon + 1, at - colon - 1, "***");
    }
    auto pw = s.find("password=");
    if (pw != std::string::npos && (s[pw - 1] == '?' || s[pw - 1] == '&')) {
      auto end = s.find('&', pw);
      s.replace(pw + 9, (end == std::string::npos ? s.size() : end) - pw - 9, "***");
    }
    return s;
  }
  // key=value form: password=secret or password='sec ret'
  std::size_t pos = 0;
  while ((pos = s.find("password", pos)) != std::string::npos) {
    bool at_word_start = pos == 0 || s[pos - 1] == ' ' || s[pos - 1] == '\t';
    auto i = pos + 8;
    while (i < s.size() && s[i] == ' ') ++i;
    if (!at_word_start || i >= s.size() || s[i] != '=') {
      pos += 8;
      continue;
    }
    ++i;
    while (i < s.size() && s[i] == ' ') ++i;
    auto start = i;
    if (i < s.size() && s[i] == '\'') {
      ++i;
      while (i < s.size() && s[i] != '\'') i += (s[i] == '\\' ? 2 : 1);
      i = std::min(i + 1, s.size());
    } else {
      while (i < s.size() && s[i] != ' ') ++i;
    }
    s.replace(start, i - start, "***");
    pos = start + 3;
  }
  return s;
}

std::string describe_config(const Config& c) {
  std::ostringstream o;
  o << "# effective configuration";
  if (!c.source_path.empty()) o << " of " << c.source_path;
  o << "\n\n[server]\n"
    << "listen = " << q(c.server.listen.host + ":" + std::to_string(c.server.listen.port)) << "\n"
    << "token_file = " << q(c.server.token_file) << secret_note(c.server.token) << "\n"
    << "max_body_bytes = " << c.server.max_body_bytes << "\n"
    << "max_header_bytes = " << c.server.max_header_bytes << "\n"
    << "max_connections = " << c.server.max_connections << "\n"
    << "idle_timeout = " << d(c.server.idle_timeout) << "\n"
    << "request_timeout = " << d(c.server.request_timeout) << "\n"
    << "tls_cert_file = " << q(c.server.tls_cert_file) << "\n"
    << "tls_key_file = " << q(c.server.tls_key_file) << "\n"
    << "api_threads = " << c.server.api_threads << "\n";

  o << "\n[database]\n";
  if (c.database.url_file.empty()) o << "url = " << q(redact_conninfo(c.database.url)) << "\n";
  else o << "url_file = " << q(c.database.url_file) << "  # loaded, redacted\n";
  o << "pool_size = " << c.database.pool_size << "\n"
    << "flush_window = " << d(c.database.flush_window) << "\n"
    << "max_batch = " << c.database.max_batch << "\n"
    << "commit_timeout = " << d(c.database.commit_timeout) << "\n"
    << "max_pending = " << c.database.max_pending << "\n";

  o << "\n[prefect]\n"
    << "api_url = " << q(c.prefect.api_url) << "\n"
    << "api_key_file = " << q(c.prefect.api_key_file) << secret_note(c.prefect.api_key) << "\n"
    << "auth_string_file = " << q(c.prefect.auth_string_file) << secret_note(c.prefect.auth_string) << "\n"
    << "timeout = " << d(c.prefect.timeout) << "\n"
    << "max_in_flight = " << c.prefect.max_in_flight << "\n"
    << "emit_events = " << (c.prefect.emit_events ? "true" : "false") << "\n";

  o << "\n[leases]\n"
    << "min_ttl = " << d(c.leases.min_ttl) << "\n"
    << "max_ttl = " << d(c.leases.max_ttl) << "\n"
    << "completion_grace = " << d(c.leases.completion_grace) << "\n";

  o << "\n[reaper]\n"
    << "interval = " << d(c.reaper.interval) << "\n"
    << "batch_size = " << c.reaper.batch_size << "\n"
    << "orphan_grace = " << d(c.reaper.orphan_grace) << "\n"
    << "work_pools = " << list(c.reaper.work_pools) << "\n"
    << "dry_run = " << (c.reaper.dry_run ? "true" : "false") << "\n"
    << "claim_timeout = " << d(c.reaper.claim_timeout) << "\n"
    << "status_refresh = " << d(c.reaper.status_refresh) << "\n"
    << "retention = " << d(c.reaper.retention) << "\n";

  o << "\n[retry]\n"
    << "max_attempts = " << c.retry.max_attempts << "\n"
    << "delay = " << d(c.retry.delay) << "\n"
    << "max_delay = " << d(c.retry.max_delay) << "\n"
    << "multiplier = " << num(c.retry.multiplier) << "\n"
    << "jitter = " << num(c.retry.jitter) << "\n";

  for (const auto& p : c.policies) {
    o << "\n[[policy]]  # line " << p.line << "\n";
    if (p.work_pool) o << "work_pool = " << q(*p.work_pool) << "\n";
    if (p.deployment) o << "deployment = " << q(*p.deployment) << "\n";
    if (!p.tags.empty()) o << "tags = " << list(p.tags) << "\n";
    if (p.max_attempts) o << "max_attempts = " << *p.max_attempts << "\n";
    if (p.delay) o << "delay = " << d(*p.delay) << "\n";
    if (p.max_delay) o << "max_delay = " << d(*p.max_delay) << "\n";
    if (p.multiplier) o << "multiplier = " << num(*p.multiplier) << "\n";
    if (p.jitter) o << "jitter = " << num(*p.jitter) << "\n";
    if (p.orphan_grace) o << "orphan_grace = " << d(*p.orphan_grace) << "\n";
  }
  return o.str();
}

}  // namespace lifeline::reaper
