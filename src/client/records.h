// Payload encodings of spool records (docs/formats/spool.md) and the BatchBuilder that turns
// records into one nereid.v1.Batch, merging consecutive points of a path into one operation.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "client/spool_format.h"
#include "client/spool_reader.h"
#include "nereid/v1/batch.pb.h"

namespace nereid::client {

struct FileRefData {
  std::string sha256;
  std::string name;
  std::string content_type;
};

std::string EncodeAssignNumber(std::string_view path, ValueKind kind, const void* value8);
std::string EncodeAssignString(std::string_view path, std::string_view value);
std::string EncodeAssignFile(std::string_view path, const FileRefData& file);
std::string EncodeStrings(std::string_view path, const std::vector<std::string_view>& values);
std::string EncodeStringPoint(std::string_view path, std::string_view value, double step,
                              int64_t time_us);
std::string EncodeFilePoint(std::string_view path, const FileRefData& file, double step,
                            int64_t time_us);

// How many log entries a record holds: its points for kFloatPoints, else 1. Counts for progress
// and stats (RunStats, `nereid sync --status`) are in entries, so one Extend of n points is n.
uint64_t RecordEntries(const SpoolRecord& rec);

class BatchBuilder {
 public:
  // Adds one record. Returns false (and adds nothing) if the payload does not decode, which
  // cannot happen for a record whose CRC matched unless the writer had a bug.
  bool Add(const SpoolRecord& rec);
  // The sha256 of every file referenced so far (to upload before the batch).
  const std::vector<std::string>& blobs() const { return blobs_; }
  // Log entries added: one per record, except that a kFloatPoints record counts its points.
  uint64_t records() const { return entries_; }
  // Roughly what the batch weighs, for its size budget: spool bytes, except that a kFloatPoints
  // record counts what its points take in the protobuf (more than in the spool: each gets a
  // timestamp there).
  uint64_t raw_bytes() const { return raw_bytes_; }
  bool empty() const { return entries_ == 0; }
  // Moves the batch out and resets the builder.
  v1::Batch Take();

 private:
  // The operation that the next point of `path` with this kind may join, or a new one.
  v1::Operation* OpFor(std::string_view path, v1::Operation::OpCase kind, bool has_step);

  v1::Batch batch_;
  struct Last {
    int index;
    bool has_step;
  };
  std::unordered_map<std::string, Last> last_;  // path -> its last operation
  std::vector<std::string> blobs_;
  uint64_t entries_ = 0;
  uint64_t raw_bytes_ = 0;
};

}  // namespace nereid::client
