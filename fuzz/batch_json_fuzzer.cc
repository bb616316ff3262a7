// Fuzzes the JSON batch path of POST /api/v1/runs/{id}/batches: ParseBatch (the protobuf JSON
// mapping) then ValidateBatch; after validation the batch must encode and parse back.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "nereid/v1/batch.pb.h"
#include "wire/decode.h"
#include "wire/validate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  nereid::v1::Batch batch;
  if (!nereid::wire::ParseBatch(body, nereid::wire::BodyFormat::kJson, &batch).ok()) return 0;
  if (!nereid::wire::ValidateBatch(batch, 1'700'000'000'000'000).ok()) return 0;
  // A validated batch is what the store receives; it must survive the wire as protobuf.
  std::string bytes = batch.SerializeAsString();
  nereid::v1::Batch again;
  if (!nereid::wire::ParseBatch(bytes, nereid::wire::BodyFormat::kProtobuf, &again).ok()) {
    std::abort();
  }
  return 0;
}
