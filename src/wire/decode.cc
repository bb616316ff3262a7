#include "wire/decode.h"

#include <google/protobuf/util/json_util.h>
#include <zstd.h>

#include <algorithm>
#include <cstdint>
#include <memory>

#include "nereid/v1/batch.pb.h"

namespace nereid::wire {

Result<BodyFormat> FormatFromContentType(std::string_view content_type) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  if (type == "application/x-protobuf" || type == "application/protobuf" ||
      type == "application/octet-stream") {
    return BodyFormat::kProtobuf;
  }
  if (type == "application/json" || type.empty()) return BodyFormat::kJson;
  return InvalidArgument("unsupported Content-Type '" + std::string(type) +
                         "'; send application/x-protobuf or application/json");
}

namespace {
// Output grows in steps of this much (or the frame's declared size, when it has one), so a small
// body costs one small allocation rather than a zero-filled 128 KiB scratch buffer.
constexpr size_t kGrowBytes = 64 * 1024;
}  // namespace

Result<std::string> DecompressZstd(std::string_view body, size_t max_bytes) {
  // One context per thread, reused: creating one per request was about 3.5 % of the server's CPU
  // under load (docs/reliability.md). Reset first, so nothing of an earlier (possibly corrupt or
  // over-limit) body survives into this one.
  thread_local std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> ctx(ZSTD_createDCtx(),
                                                                        ZSTD_freeDCtx);
  if (!ctx) ctx.reset(ZSTD_createDCtx());  // a failed creation is tried again, not kept for good
  if (!ctx) return Internal("zstd: out of memory");
  ZSTD_DCtx_reset(ctx.get(), ZSTD_reset_session_only);
  // Streaming, so the output can be capped whatever the frame header claims: the buffer never
  // grows past max_bytes + 1, and one byte more than the limit means the body is too large.
  const size_t cap = max_bytes < SIZE_MAX ? max_bytes + 1 : max_bytes;
  const unsigned long long declared = ZSTD_getFrameContentSize(body.data(), body.size());
  size_t first = kGrowBytes;
  if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != ZSTD_CONTENTSIZE_ERROR) {
    first = static_cast<size_t>(std::min<unsigned long long>(declared, kGrowBytes * 16));
  }
  std::string out(std::min(std::max<size_t>(first, 1), cap), '\0');
  size_t produced = 0;
  ZSTD_inBuffer in{body.data(), body.size(), 0};
  size_t last = 0;
  for (;;) {
    if (produced == out.size()) {
      if (out.size() >= cap) {
        return PayloadTooLarge("decompressed body exceeds the limit of " +
                               std::to_string(max_bytes) + " bytes");
      }
      out.resize(std::min(cap, out.size() + std::max(kGrowBytes, out.size() / 2)));
    }
    ZSTD_outBuffer ob{out.data() + produced, out.size() - produced, 0};
    last = ZSTD_decompressStream(ctx.get(), &ob, &in);
    if (ZSTD_isError(last)) {
      return InvalidArgument(std::string("body is not valid zstd: ") + ZSTD_getErrorName(last));
    }
    produced += ob.pos;
    if (produced > max_bytes) {
      return PayloadTooLarge("decompressed body exceeds the limit of " + std::to_string(max_bytes) +
                             " bytes");
    }
    // All input read, and either the frame ended or the decoder had nothing more to give.
    if (in.pos == in.size && (last == 0 || ob.pos < ob.size)) break;
  }
  if (last != 0) return InvalidArgument("body is a truncated zstd frame");
  out.resize(produced);
  return out;
}

Status ParseBatch(std::string_view body, BodyFormat format, v1::Batch* batch) {
  if (format == BodyFormat::kProtobuf) {
    if (body.size() > static_cast<size_t>(INT32_MAX) ||
        !batch->ParseFromArray(body.data(), static_cast<int>(body.size()))) {
      return InvalidArgument("body is not a valid nereid.v1.Batch protobuf message");
    }
    return Status::Ok();
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(body.data(), body.size()), batch, options);
  if (!status.ok()) {
    return InvalidArgument("body is not a valid Batch in JSON: " +
                           std::string(status.message().data(), status.message().size()));
  }
  return Status::Ok();
}

}  // namespace nereid::wire
