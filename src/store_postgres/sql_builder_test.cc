#include "store_postgres/sql_builder.h"

#include <gtest/gtest.h>

namespace nereid::store_postgres {
namespace {

TEST(Sql, PartsJoinAndPlaceholdersAreNumberedInOrder) {
  Sql filter;
  filter << "r.name = ";
  filter.Text("it's $1") << " AND r.size_bytes > ";
  filter.Int(7);
  Sql q;
  q << "SELECT 1 FROM runs r WHERE r.project_id = ";
  q.Int(3) << " AND " << filter << " AND r.id = ANY(";
  q.Ids({1, 2}) << ") AND k.last < ";
  q.Double(0.5) << " AND f.path = ANY(";
  q.Texts({"a\"b", "c\\d", ""}) << ")";
  PgParams params;
  EXPECT_EQ(q.Finish(&params),
            "SELECT 1 FROM runs r WHERE r.project_id = $1::bigint AND r.name = $2::text AND "
            "r.size_bytes > $3::bigint AND r.id = ANY($4::bigint[]) AND k.last < $5::float8 AND "
            "f.path = ANY($6::text[])");
  EXPECT_EQ(params.size(), 6u);
  EXPECT_TRUE(Sql().empty());
  EXPECT_FALSE(filter.empty());
  // Finishing twice gives the same text (parts stay reusable).
  PgParams again;
  EXPECT_EQ(filter.Finish(&again), "r.name = $1::text AND r.size_bytes > $2::bigint");
}

}  // namespace
}  // namespace nereid::store_postgres
