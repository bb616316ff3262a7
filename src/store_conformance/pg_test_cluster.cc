#include "store_conformance/pg_test_cluster.h"

#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "store_postgres/pg.h"

namespace nereid::store_conformance {
namespace {
std::mutex g_mu;
}  // namespace

std::string WithDatabase(const std::string& url, const std::string& db) {
  size_t scheme = url.find("://");
  size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  size_t query = url.find('?');
  std::string base = url.substr(0, slash == std::string::npos ? url.find('?') : slash);
  std::string rest = query == std::string::npos ? "" : url.substr(query);
  return base + "/" + db + rest;
}

PgTestCluster& PgTestCluster::Get() {
  static PgTestCluster* cluster = new PgTestCluster();
  static bool registered = [] {
    std::atexit([] { delete cluster; });
    return true;
  }();
  (void)registered;
  return *cluster;
}

PgTestCluster::~PgTestCluster() {
  if (dir_.empty()) return;
  std::string cmd = std::string("bash ") + NEREID_SOURCE_DIR + "/tests/pg/cluster.sh stop '" +
                    dir_ + "' >/dev/null 2>&1";
  (void)std::system(cmd.c_str());
}

Status PgTestCluster::Start() {
  if (const char* env = std::getenv("NEREID_TEST_PG_URL"); env && *env) {
    admin_url_ = env;
    return Status();
  }
  std::string cmd = std::string("bash ") + NEREID_SOURCE_DIR + "/tests/pg/cluster.sh start";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return Internal("cannot run " + cmd);
  std::string out;
  std::array<char, 512> buf;
  while (size_t n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  int rc = ::pclose(p);
  size_t nl = out.find('\n');
  if (rc != 0 || nl == std::string::npos) {
    return Unavailable("could not start a PostgreSQL cluster for the tests (" + cmd +
                       "); install Debian's postgresql package, or set NEREID_TEST_PG_URL");
  }
  admin_url_ = out.substr(0, nl);
  dir_ = out.substr(nl + 1);
  while (!dir_.empty() && dir_.back() == '\n') dir_.pop_back();
  return Status();
}

Result<std::string> PgTestCluster::AdminUrl() {
  std::lock_guard lock(g_mu);
  if (!started_) {
    started_ = true;
    start_error_ = Start();
  }
  NEREID_RETURN_IF_ERROR(start_error_);
  return admin_url_;
}

Result<std::string> PgTestCluster::NewDatabase() {
  NEREID_ASSIGN_OR_RETURN(std::string admin, AdminUrl());
  std::string name;
  {
    std::lock_guard lock(g_mu);
    name = "nereid_test_" + std::to_string(::getpid()) + "_" + std::to_string(next_db_++);
  }
  NEREID_ASSIGN_OR_RETURN(auto conn, store_postgres::PgConn::Connect(admin));
  // Identifiers cannot be bound as parameters; `name` is built above from digits only.
  NEREID_RETURN_IF_ERROR(conn->ExecScript("DROP DATABASE IF EXISTS " + name));
  NEREID_RETURN_IF_ERROR(conn->ExecScript("CREATE DATABASE " + name));
  return WithDatabase(admin, name);
}

void PgTestCluster::DropDatabase(const std::string& url) {
  Result<std::string> admin = AdminUrl();
  if (!admin.ok()) return;
  size_t slash = url.rfind('/');
  std::string name = url.substr(slash + 1, url.find('?', slash) - slash - 1);
  if (name.rfind("nereid_test_", 0) != 0) return;
  auto conn = store_postgres::PgConn::Connect(*admin);
  if (!conn.ok()) return;
  (void)(*conn)->ExecScript("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
}

}  // namespace nereid::store_conformance
