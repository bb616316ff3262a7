// Turns an HTTP request body into a Batch: protobuf binary (application/x-protobuf) or the
// protobuf JSON mapping (application/json), optionally zstd-compressed (Content-Encoding: zstd).
//
// Thread-safety: free functions; safe from any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "nereid/status.h"

namespace nereid::v1 {
class Batch;
}

namespace nereid::wire {

enum class BodyFormat { kProtobuf, kJson };

// From a Content-Type header value; InvalidArgument (naming the accepted types) for others.
Result<BodyFormat> FormatFromContentType(std::string_view content_type);

// Decompresses a zstd body into at most `max_bytes`; PayloadTooLarge beyond (a zstd bomb stops
// there, never allocating more), InvalidArgument for a corrupt frame.
Result<std::string> DecompressZstd(std::string_view body, size_t max_bytes);

// Parses a body (already decompressed) into `batch`. InvalidArgument with the parser's reason.
Status ParseBatch(std::string_view body, BodyFormat format, v1::Batch* batch);

}  // namespace nereid::wire
