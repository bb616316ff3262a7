// Checks and normalises a decoded Batch before it reaches the store, so that every backend can
// trust what it is given. After ValidateBatch returns OK:
//  - writer_id is 1..64 printable ASCII characters and sequence >= 1;
//  - at most kMaxOperations operations once nested dicts are flattened (PayloadTooLarge beyond);
//  - every operation has a valid path (common::ValidatePath) and exactly one op set;
//  - no Value holds `nested`: nested dicts were flattened into one assign per leaf
//    (path + "/" + key), each leaf path valid;
//  - strings (values, set members, series points) are valid UTF-8 of at most 1 MiB;
//  - file references have a 64-hex-char sha256 and a name without '/', '\\' or control chars
//    (empty content_type is filled from the name's extension);
//  - series points: timestamps_us empty are filled with `now_us`; steps are empty (the store
//    numbers them) or as many as the values, and every step is finite;
//  - writes under sys/ are only: sys/name, sys/description (string assign), sys/state (string
//    assign of running|succeeded|failed|aborted), sys/failed (bool assign), sys/tags
//    (add_strings / remove_strings / string_set assign), sys/ping_time (datetime assign).
// Nothing here touches storage: unknown runs, type conflicts and unknown blobs are the store's
// to report.
#pragma once

#include <cstdint>

#include "common/field_rules.h"
#include "nereid/status.h"

namespace nereid::v1 {
class Batch;
}

namespace nereid::wire {

inline constexpr size_t kMaxStringBytes = common::kMaxStringBytes;
inline constexpr size_t kMaxWriterIdLength = 64;
// Operations per batch. A batch of a million tiny assigns held the store's writer (and so every
// other client's ingest) for minutes; series points are not operations, so bulk appends of
// millions of points in one operation are not limited by this.
inline constexpr size_t kMaxOperations = 100000;

Status ValidateBatch(v1::Batch& batch, int64_t now_us);

}  // namespace nereid::wire
