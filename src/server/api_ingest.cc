// Writes: batches of operations for a run, and file uploads.
#include <chrono>
#include <nlohmann/json.hpp>

#include "nereid/v1/batch.pb.h"
#include "server/context.h"
#include "server/json_render.h"
#include "store/write_timing.h"
#include "wire/decode.h"
#include "wire/validate.h"

namespace nereid::server {
namespace {

using nlohmann::json;

const std::vector<double> kLatencyBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                            0.1,   0.25,   0.5,   1,    2.5,   5};

// Finer than kLatencyBounds at the low end: decoding a small batch takes microseconds.
const std::vector<double> kStageBounds = {0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
                                          0.001,   0.0025,   0.005,   0.01,   0.025,   0.05,
                                          0.1,     0.25,     0.5,     1,      2.5,     5};

void ObserveStage(Context* ctx, const char* stage, std::chrono::steady_clock::time_point from,
                  std::chrono::steady_clock::time_point to) {
  ctx->metrics.Observe("nereid_ingest_stage_seconds", {{"stage", stage}},
                       std::chrono::duration<double>(to - from).count(), kStageBounds);
}

uint64_t CountPoints(const v1::Batch& batch) {
  uint64_t n = 0;
  for (const auto& op : batch.operations()) {
    n += op.append_floats().values_size() + op.append_strings().values_size() +
         op.append_files().files_size();
  }
  return n;
}

// Streams an upload into the blob store, hashing as it goes (never the whole file in memory).
class UploadSink : public http::BodySink {
 public:
  explicit UploadSink(Result<std::unique_ptr<store::BlobStore::Upload>> upload)
      : upload_(std::move(upload)) {}
  Status Write(std::string_view chunk) override {
    if (!upload_.ok()) return upload_.status();
    return (*upload_)->Write(chunk);
  }
  Result<std::unique_ptr<store::BlobStore::Upload>>& upload() { return upload_; }

 private:
  Result<std::unique_ptr<store::BlobStore::Upload>> upload_;
};

}  // namespace

void AddIngestRoutes(Context* ctx, http::Server* server) {
  server->Route(
      "POST", "/api/v1/runs/{run_id}/batches",
      Authed(ctx, [ctx](http::Request& r) -> Result<http::Response> {
        auto started = std::chrono::steady_clock::now();
        NEREID_ASSIGN_OR_RETURN(auto format, wire::FormatFromContentType(r.Header("content-type")));
        std::string decompressed;
        std::string_view body = r.body;
        std::string_view encoding = r.Header("content-encoding");
        if (encoding == "zstd") {
          NEREID_ASSIGN_OR_RETURN(decompressed, wire::DecompressZstd(body, ctx->config.body_limit));
          body = decompressed;
        } else if (!encoding.empty() && encoding != "identity") {
          return InvalidArgument("unsupported Content-Encoding '" + std::string(encoding) +
                                 "'; send zstd or none");
        }
        v1::Batch batch;
        NEREID_RETURN_IF_ERROR(wire::ParseBatch(body, format, &batch));
        NEREID_RETURN_IF_ERROR(wire::ValidateBatch(batch, ctx->now_us()));
        const std::string& run_id = r.path_params.at("run_id");
        const auto decoded = std::chrono::steady_clock::now();
        store::last_write_timing = {};
        auto result = ctx->store->Ingest(run_id, batch);
        const auto returned = std::chrono::steady_clock::now();
        ObserveStage(ctx, "decode", started, decoded);
        if (const store::WriteTiming& t = store::last_write_timing;
            t.committed != store::WriteTiming::TimePoint{}) {
          // The store's checks before it queues the write; waiting for the writer thread; the
          // transaction applying this batch and the others grouped with it; COMMIT (the fsync
          // with --sync full); the handler thread waking up.
          ObserveStage(ctx, "prepare", decoded, t.queued);
          ObserveStage(ctx, "commit_queue", t.queued, t.started);
          ObserveStage(ctx, "apply", t.started, t.applied);
          ObserveStage(ctx, "commit", t.applied, t.committed);
          ObserveStage(ctx, "wake", t.committed, returned);
        } else {
          ObserveStage(ctx, "store", decoded, returned);
        }
        ctx->metrics.Add(
            "nereid_ingest_batches_total",
            {{"result", result.ok() ? (result->duplicate ? "duplicate" : "applied")
                                    : std::string(StatusCodeName(result.status().code()))}});
        if (!result.ok()) return result.status();
        if (!result->duplicate) {
          ctx->metrics.Add("nereid_ingest_points_total", {},
                           static_cast<double>(CountPoints(batch)));
        }
        double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        ctx->metrics.Observe("nereid_batch_duration_seconds", {}, seconds, kLatencyBounds);

        if (r.Header("accept").find("application/x-protobuf") != std::string_view::npos) {
          v1::BatchAck ack;
          ack.set_sequence(result->sequence);
          ack.set_duplicate(result->duplicate);
          ack.set_applied_points(result->applied_points);
          http::Response resp;
          resp.content_type = "application/x-protobuf";
          resp.body = ack.SerializeAsString();
          return resp;
        }
        return JsonResponse(200, {{"sequence", result->sequence},
                                  {"duplicate", result->duplicate},
                                  {"applied_points", result->applied_points}});
      }));

  http::RouteOptions upload_options;
  upload_options.body_limit = ctx->config.upload_limit;
  upload_options.sink = [ctx](const http::Request& r) -> std::unique_ptr<http::BodySink> {
    // Refuse unauthenticated uploads before a byte reaches the disk.
    Status auth = ctx->auth.Check(r.Header("authorization"));
    if (!auth.ok()) return std::make_unique<UploadSink>(auth);
    return std::make_unique<UploadSink>(
        ctx->blobs->Begin(static_cast<int64_t>(ctx->config.upload_limit)));
  };
  server->Route("POST", "/api/v1/files",
                Authed(ctx,
                       [ctx](http::Request& r) -> Result<http::Response> {
                         NEREID_RETURN_IF_ERROR(r.sink_status);
                         auto* sink = dynamic_cast<UploadSink*>(r.sink);
                         if (sink == nullptr) return Internal("upload arrived without its sink");
                         if (!sink->upload().ok()) return sink->upload().status();
                         NEREID_ASSIGN_OR_RETURN(auto blob, (*sink->upload())->Commit());
                         NEREID_RETURN_IF_ERROR(ctx->store->RecordBlob(blob.sha256, blob.size));
                         return JsonResponse(201, {{"sha256", blob.sha256}, {"size", blob.size}});
                       }),
                upload_options);
}

}  // namespace nereid::server
