// Fuzzes the runs-table filter language (GET .../runs?filter=, sort=, columns=): ParseFilter and
// ParseFieldRef must never crash, and a parsed filter's canonical text must parse back to the
// same canonical text (the property the UI relies on when it shows and edits a filter).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "query/filter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)nereid::query::ParseFieldRef(text);
  auto expr = nereid::query::ParseFilter(text);
  if (!expr.ok() || *expr == nullptr) return 0;
  const std::string canon = nereid::query::ToString(**expr);
  auto again = nereid::query::ParseFilter(canon);
  if (!again.ok() || *again == nullptr || nereid::query::ToString(**again) != canon) {
    std::fprintf(stderr, "canonical text does not round-trip: %s\n", canon.c_str());
    std::abort();
  }
  return 0;
}
