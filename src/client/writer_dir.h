// The spool's folder layout (docs/formats/spool.md):
//
//   <home>/<custom run id, %-escaped>/<writer id>/
//       writer.json    what is needed to upload: url, project, run ids, name, tags (no token)
//       lock           flock'ed by the live process that writes this folder
//       ledger         batches sent and acknowledged (Ledger)
//       seg-00000001.nrs, seg-00000002.nrs, ...   record segments (SpoolWriter)
//       blobs/<sha256> file contents waiting for upload
//
// Each process is its own writer: several processes that log to one run (same custom run id)
// have sibling writer folders, and a forked child never writes into its parent's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nereid/status.h"

namespace nereid::client {

struct WriterInfo {
  std::string url;
  std::string project;
  std::string custom_run_id;
  std::string run_id;  // empty until the server created the run
  std::string writer_id;
  std::string name;
  std::string description;
  std::vector<std::string> tags;
  std::string mode;
  int64_t pid = 0;
};

std::string SegmentPath(const std::string& dir, uint32_t number);
std::string EscapeDirName(const std::string& s);
// A random writer id: 32 lowercase hex digits.
std::string NewWriterId();

// Writes writer.json atomically (temp file + rename).
Status WriteWriterInfo(const std::string& dir, const WriterInfo& info);
Result<WriterInfo> ReadWriterInfo(const std::string& dir);

// Takes the folder's flock (non-blocking). Returns the fd to keep open while writing, or
// kUnavailable when another live process holds it.
Result<int> LockWriterDir(const std::string& dir);

// Every writer folder under `home` (folders holding a writer.json), sorted.
std::vector<std::string> ListWriterDirs(const std::string& home);
// Segment numbers present in a writer folder, ascending.
std::vector<uint32_t> ListSegments(const std::string& dir);

}  // namespace nereid::client
