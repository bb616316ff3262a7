// SpoolReader: reads a writer folder's records in order, through its own read-only mapping of
// one segment at a time.
//
// Live mode (the sender of the writing process): stops at the first record not yet published
// (CRC zero); a later call continues there. Recovered mode (`nereid sync`, after the writer died):
// a record that is torn (CRC zero or wrong) is skipped by scanning forward, 8 bytes at a time, to
// the next record whose CRC checks; a segment that ends without kEnd continues in the next file.
// A record is never returned unless its CRC matches.
//
// Thread-safety: one thread at a time. Payload views stay valid until the next call.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "client/spool_format.h"

namespace nereid::client {

struct SpoolRecord {
  RecordType type;
  uint8_t flags;
  std::string_view payload;
};

class SpoolReader {
 public:
  SpoolReader(std::string dir, bool live);
  ~SpoolReader();
  SpoolReader(const SpoolReader&) = delete;
  SpoolReader& operator=(const SpoolReader&) = delete;

  // Reads the first record at or after *pos into *rec and moves *pos just past it. Returns false
  // when there is none (yet); *pos may then have moved past skipped bytes or to a later segment.
  bool Next(Position* pos, SpoolRecord* rec);

  // Bytes skipped as torn or corrupt so far (recovered mode).
  uint64_t skipped_bytes() const { return skipped_bytes_; }
  // When the last Next returned false in front of an intact record (its CRC matches) of a type
  // this reader does not know, written by a newer client: that type; else 0. Next stops there,
  // in both modes, rather than skip the record as torn: its data waits for a reader that knows it.
  uint8_t newer_type() const { return newer_type_; }

 private:
  bool Map(uint32_t segment);
  void Unmap();
  // Recovered mode: moves *pos to the next valid record in the mapped segment. False if none.
  bool Resync(Position* pos);
  // Whether a whole, intact record starts at `offset`. *unwritten (if given) says whether its CRC
  // was zero, i.e. not published yet, as seen by the one load that decided.
  // A record of a type above kLastRecordType whose CRC matches counts as valid here (so Resync
  // stops at it); Next then stops in front of it.
  bool Valid(uint64_t offset, uint32_t* len, bool* unwritten = nullptr) const;
  bool SegmentExists(uint32_t segment) const;
  // The smallest segment file numbered above `segment`, or 0.
  uint32_t NextSegmentFile(uint32_t segment) const;

  const std::string dir_;
  const bool live_;
  uint32_t mapped_ = 0;  // segment number of base_, 0 if none
  const char* base_ = nullptr;
  uint64_t size_ = 0;
  uint64_t skipped_bytes_ = 0;
  uint8_t newer_type_ = 0;
};

}  // namespace nereid::client
