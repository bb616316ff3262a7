#include "wire/decode.h"

#include <google/protobuf/util/json_util.h>
#include <zstd.h>

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

Result<std::string> DecompressZstd(std::string_view body, size_t max_bytes) {
  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> ctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!ctx) return Internal("zstd: out of memory");
  // Streaming, so the output can be capped whatever the frame header claims.
  std::string out;
  ZSTD_inBuffer in{body.data(), body.size(), 0};
  std::string chunk(ZSTD_DStreamOutSize(), '\0');
  size_t last = 0;
  for (;;) {
    ZSTD_outBuffer ob{chunk.data(), chunk.size(), 0};
    last = ZSTD_decompressStream(ctx.get(), &ob, &in);
    if (ZSTD_isError(last)) {
      return InvalidArgument(std::string("body is not valid zstd: ") + ZSTD_getErrorName(last));
    }
    if (out.size() + ob.pos > max_bytes) {
      return PayloadTooLarge("decompressed body exceeds the limit of " + std::to_string(max_bytes) +
                             " bytes");
    }
    out.append(chunk.data(), ob.pos);
    // All input read, and either the frame ended or the decoder had nothing more to give.
    if (in.pos == in.size && (last == 0 || ob.pos < ob.size)) break;
  }
  if (last != 0) return InvalidArgument("body is a truncated zstd frame");
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
