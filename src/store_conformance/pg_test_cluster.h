// A PostgreSQL cluster for the storage tests: the one named by NEREID_TEST_PG_URL, or else a
// throw-away cluster started on first use by tests/pg/cluster.sh (initdb in a temp folder, a free
// port) and stopped when the test program exits. Each test gets its own database.
#pragma once

#include <string>

#include "nereid/status.h"

namespace nereid::store_conformance {

class PgTestCluster {
 public:
  static PgTestCluster& Get();
  // Creates an empty database and returns its URL.
  Result<std::string> NewDatabase();
  // Drops a database made by NewDatabase (closing its connections first). Best effort.
  void DropDatabase(const std::string& url);
  // The URL of the cluster's maintenance database ("postgres").
  Result<std::string> AdminUrl();

 private:
  PgTestCluster() = default;
  ~PgTestCluster();
  Status Start();

  bool started_ = false;
  Status start_error_;
  std::string admin_url_;
  std::string dir_;  // set when this process started the cluster
  int next_db_ = 0;
};

// `url` with its database name replaced by `db`.
std::string WithDatabase(const std::string& url, const std::string& db);

}  // namespace nereid::store_conformance
