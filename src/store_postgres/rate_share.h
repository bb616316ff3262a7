// PgRateShare: store::RateShare on the rate_state table (schema.cc). One statement per exchange:
// charges are upserted in key order (two servers never wait on each other's rows in opposite
// orders) and the debts of the whole space are read back in the same round trip. The table is
// UNLOGGED and rows of idle keys (TAT in the past, the same as no row) are deleted now and then.
//
// It holds its own connection, so an exchange never waits behind request traffic for a pooled
// one.
//
// Thread-safety: Exchange may be called from any thread (calls take turns on the connection).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "store/rate_share.h"
#include "store_postgres/pg.h"

namespace nereid::store_postgres {

class PgRateShare final : public store::RateShare {
 public:
  // `url`: the database. `clock`: microseconds on a clock every server shares; null (the default
  // and what servers use) means the database's own clock. Tests pass a fake one. Connects lazily.
  explicit PgRateShare(std::string url, std::function<int64_t()> clock = nullptr);

  Result<std::vector<Debt>> Exchange(int space, const std::vector<Charge>& charges) override;

  // Idle rows are deleted every this many exchanges (about every 10 s at a 200 ms period).
  static constexpr int kCleanupEvery = 50;

 private:
  PgPool pool_;  // one connection
  std::function<int64_t()> clock_;
  std::mutex mu_;
  int exchanges_ = 0;  // guarded by mu_
};

}  // namespace nereid::store_postgres
