// TEMPORARY during the 2026-12-02 build-out: methods whose real implementation is being written
// in fields.cc, list_runs.cc, ingest.cc and series_read.cc. Each is removed from here when its
// file lands; this file must be gone before the backend is called done.
#include "store_postgres/pg_store_impl.h"

namespace nereid::store_postgres {
namespace {
Status Pending(const char* what) { return Internal(std::string(what) + ": not yet implemented"); }
}  // namespace

Result<store::IngestResult> PgStore::Ingest(std::string_view, const v1::Batch&) {
  return Pending("Ingest");
}
Result<store::SeriesPage> PgStore::ReadSeries(const store::SeriesQuery&) {
  return Pending("ReadSeries");
}
Result<std::vector<series::Bucket>> PgStore::ReadBuckets(const store::BucketQuery&) {
  return Pending("ReadBuckets");
}

}  // namespace nereid::store_postgres
