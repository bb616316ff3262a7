// The refused-records file: where the sender keeps a spool record that the server refused for its
// content (HTTP 400, 413, 409 type_conflict) once the record is alone in its batch, so that the
// rest of the run can go on arriving without the record being lost.
//
// It lives beside the writer folder, not in it (`<run folder>/<writer folder>.refused.jsonl`),
// because the writer folder is deleted once everything else is delivered. The files a refused
// record refers to (a file larger than the server's upload limit) are kept beside it too, in
// `<writer folder>.refused-files/<sha256>`, hard-linked from the spool's blobs. One JSON object per
// line: where the record was in the spool, the server's answer, the record's type, its operations
// as the batch protocol's JSON when it decodes, and its payload in base64 (always, so the record
// can be rebuilt exactly).
//
// Thread-safety: free functions; one writer folder is handled by one thread at a time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "client/spool_format.h"
#include "client/spool_reader.h"
#include "nereid/status.h"

namespace nereid::client {

struct RefusedRecord {
  Position at;        // where the record starts in the spool
  uint64_t sequence;  // the batch sequence it was refused under
  long http_status;
  std::string code;     // the server's error code ("type_conflict"), may be empty
  std::string message;  // the server's message
  // Paths of the record's files kept by KeepRefusedFiles (listed in the line as "kept_files").
  std::vector<std::string> kept_files;
};

// The file refused records of the writer folder `dir` go to.
std::string RefusedPath(const std::string& dir);

// What a person would call the record: "a string point of 'x'", "an assignment to 'p'",
// "300 float points of 'y'"; as much as decodes.
std::string DescribeRecord(const SpoolRecord& rec);

// The folder the files of refused records of writer folder `dir` are kept in.
std::string RefusedFilesDir(const std::string& dir);

// Keeps the spool blobs `shas` of writer folder `dir` in RefusedFilesDir(dir) (a hard link, or a
// copy where links are not possible) and appends their paths to *kept. Before AppendRefused, so
// that the line never names a file that is not there.
Status KeepRefusedFiles(const std::string& dir, const std::vector<std::string>& shas,
                        std::vector<std::string>* kept);

// Appends one line for `rec` to RefusedPath(dir). On failure (a full disk) nothing is half-written
// that a reader would misread: a short line is cut off again, and the error is returned.
Status AppendRefused(const std::string& dir, const SpoolRecord& rec, const RefusedRecord& why);

}  // namespace nereid::client
