// Shared by the backends so that a bad runs query is refused with the same words on each.
#include <string>

#include "store/store.h"

namespace nereid::store {

Status CheckListRunsQuery(const ListRunsQuery& query) {
  if (query.limit < 1 || query.limit > 1000) return InvalidArgument("limit must be 1..1000");
  if (query.offset > kMaxRunsOffset) {
    return InvalidArgument("'offset' must be 0 to " + std::to_string(kMaxRunsOffset));
  }
  // A cursor already names a position; adding an offset to it would have two meanings.
  if (query.offset > 0 && !query.cursor.empty()) {
    return InvalidArgument("'offset' and 'cursor' cannot be combined");
  }
  return Status();
}

}  // namespace nereid::store
