// Fuzzes the protobuf batch path of POST /api/v1/runs/{id}/batches: optional zstd (an input that
// starts with the zstd magic is decompressed first, capped like a body), then ParseBatch and
// ValidateBatch. Neither may crash, read out of bounds, leak or allocate without bound.
#include <cstdint>
#include <string_view>

#include "nereid/v1/batch.pb.h"
#include "wire/decode.h"
#include "wire/validate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  std::string inflated;
  if (body.size() >= 4 && body.substr(0, 4) == std::string_view("\x28\xb5\x2f\xfd", 4)) {
    auto out = nereid::wire::DecompressZstd(body, 1 << 20);
    if (!out.ok()) return 0;
    inflated = std::move(*out);
    body = inflated;
  }
  nereid::v1::Batch batch;
  if (!nereid::wire::ParseBatch(body, nereid::wire::BodyFormat::kProtobuf, &batch).ok()) return 0;
  (void)nereid::wire::ValidateBatch(batch, 1'700'000'000'000'000);
  return 0;
}
