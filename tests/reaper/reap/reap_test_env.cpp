#include "tests/reaper/reap/reap_test_env.hpp"

#include <stdexcept>

#include "reaper/store/embedded_schema.hpp"
#include "reaper/store/migrator.hpp"
#include "tests/support/postgres_fixture.hpp"

namespace lifeline::reaper::reap::testing {

using store::PgParam;

ReapEnv::ReapEnv() {
  if (!fake.start()) throw std::runtime_error("fake Prefect did not start");
  db_url = lifeline::testing::TempPostgres::shared().create_database();
  auto c = store::PgConnection::connect(db_url, Duration{5000});
  if (!c) throw std::runtime_error(c.error().message);
  conn_.emplace(std::move(c).value());
  auto m = store::apply_migrations(*conn_, store::embedded_migrations(), Duration{30'000}, log);
  if (!m) throw std::runtime_error("migrations: " + m.error().message);
}

ReapEnv::~ReapEnv() { fake.stop(); }

Config ReapEnv::config() const {
  Config c;
  c.prefect.api_url = fake.api_url();
  c.prefect.timeout = Duration{2'000};
  c.prefect.max_in_flight = 4;
  c.reaper.interval = Duration{100};
  c.reaper.orphan_grace = Duration{0};
  c.reaper.claim_timeout = Duration{5'000};
  c.reaper.status_refresh = Duration{200};
  c.leases.completion_grace = Duration{60'000};
  c.retry.max_attempts = 3;
  c.retry.delay = Duration{10'000};
  c.retry.jitter = 0.0;
  return c;
}

std::unique_ptr<ReapService> ReapEnv::service(const Config& c) {
  return std::make_unique<ReapService>(c, db_url, metrics, log, clock);
}

void ReapEnv::exec(const std::string& sql) {
  auto r = conn_->exec(sql, {}, Duration{10'000});
  if (!r) throw std::runtime_error(sql + ": " + r.error().message);
}

std::string ReapEnv::value(const std::string& sql) {
  auto r = conn_->exec(sql, {}, Duration{10'000});
  if (!r) throw std::runtime_error(sql + ": " + r.error().message);
  if (r->rows() == 0 || r->is_null(0, 0)) return "";
  return std::string(r->text(0, 0));
}

void ReapEnv::plant(const LeaseSpec& l) {
  const std::string epoch = std::to_string(l.epoch), ttl = std::to_string(l.ttl_ms),
                    exp = std::to_string(l.expires_in_ms), rel = std::to_string(l.released_ms_ago);
  const std::string code = l.exit_code ? std::to_string(*l.exit_code) : "";
  const PgParam params[] = {PgParam::text(l.run_id),
                            PgParam::text(l.holder),
                            PgParam::text(l.node),
                            PgParam::text(epoch),
                            PgParam::text(ttl),
                            PgParam::text(l.state),
                            PgParam::text(exp),
                            l.release_outcome ? PgParam::text(*l.release_outcome) : PgParam::null(),
                            l.exit_code ? PgParam::text(code) : PgParam::null(),
                            PgParam::text(rel)};
  auto r = conn_->exec(
      "INSERT INTO lifeline_leases (run_id, holder, node, epoch, seq, ttl_ms, phase, state, renewed_at, expires_at, "
      "  released_at, release_outcome, exit_code) "
      "VALUES ($1::uuid, $2, $3, $4::bigint, 1, $5::integer, 'running', $6, "
      "  now() + ($7::integer - $5::integer) * interval '1 millisecond', now() + $7::integer * interval '1 millisecond', "
      "  CASE WHEN $6 = 'released' THEN now() - $10::integer * interval '1 millisecond' END, $8, $9::integer)",
      params, Duration{10'000});
  if (!r) throw std::runtime_error("plant lease: " + r.error().message);
}

std::vector<fake_prefect::Json> ReapEnv::states(const std::string& run_id, const std::string& type) {
  std::vector<fake_prefect::Json> out;
  for (auto& s : fake.history(run_id))
    if (type.empty() || s["type"] == type) out.push_back(s);
  return out;
}

std::size_t ReapEnv::set_state_calls(const std::string& run_id, const std::string& type) {
  std::size_t n = 0;
  for (const auto& c : fake.calls_to("POST", "/api/flow_runs/" + run_id + "/set_state")) {
    auto body = fake_prefect::Json::parse(c.body, nullptr, false);
    if (body.is_object() && body["state"]["type"] == type) ++n;
  }
  return n;
}

void ReapStoreFixture::SetUp() {
  auto c = store::PgConnection::connect(env_.db_url, Duration{5000});
  ASSERT_TRUE(c) << c.error().message;
  conn_.emplace(std::move(c).value());
  store_.emplace(*conn_, "replica-test", Duration{10'000});
  ASSERT_TRUE(store_->prepare_session());
}

}  // namespace lifeline::reaper::reap::testing
