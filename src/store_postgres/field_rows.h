// Reading a run's field rows back into store values: one `fields` row, joined with its `series`
// row when the field is a series. The columns follow the SQLite backend (src/store/README.md):
// `num` holds floats, ints and datetimes as a double (NaN as NULL), `int` holds ints, bools and
// datetimes exactly (and a series' id), `text` holds strings and the JSON of sets and files
// (store/codec.h). Used by GetFields and by the cells of the runs table.
//
// Thread-safety: free functions over values.
#pragma once

#include "store/types.h"
#include "store_postgres/pg.h"

namespace nereid::store_postgres {

// The select list ReadFieldRow expects, in this order, over
//   fields f LEFT JOIN series s ON s.run_id = f.run_id AND s.path = f.path
inline constexpr const char* kFieldRowColumns =
    "f.type, f.num, f.int, f.text, s.count, s.last_step, s.last_ts, s.last, s.min, s.max, "
    "s.last_text";

// The field whose kFieldRowColumns start at column `col` of `row`: its type and either its value
// (atoms, sets, files) or its series summary. `path` is left empty for the caller to fill.
// A malformed file reference reads as an absent value rather than failing the whole listing.
store::Field ReadFieldRow(const PgResult& r, int row, int col);

}  // namespace nereid::store_postgres
