#include "client/spool_reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "client/crc32c.h"
#include "client/writer_dir.h"

namespace nereid::client {

SpoolReader::SpoolReader(std::string dir, bool live) : dir_(std::move(dir)), live_(live) {}

SpoolReader::~SpoolReader() {
  Unmap();
}

void SpoolReader::Unmap() {
  if (base_ != nullptr) munmap(const_cast<char*>(base_), size_);
  base_ = nullptr;
  mapped_ = 0;
  size_ = 0;
}

bool SpoolReader::SegmentExists(uint32_t segment) const {
  return access(SegmentPath(dir_, segment).c_str(), F_OK) == 0;
}

uint32_t SpoolReader::NextSegmentFile(uint32_t segment) const {
  for (uint32_t n : ListSegments(dir_)) {
    if (n > segment) return n;
  }
  return 0;
}

bool SpoolReader::Map(uint32_t segment) {
  // Segment numbers start at 1; 0 means "nothing mapped" (a ledger line can still say 0).
  if (segment == 0) return false;
  if (mapped_ == segment) return true;
  Unmap();
  int fd = open(SegmentPath(dir_, segment).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st {};
  if (fstat(fd, &st) != 0 || st.st_size < static_cast<off_t>(kSegmentHeaderBytes)) {
    close(fd);
    return false;
  }
  void* p = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_SHARED, fd, 0);
  close(fd);
  if (p == MAP_FAILED) return false;
  if (std::memcmp(p, kSegmentMagic, 8) != 0) {
    munmap(p, static_cast<size_t>(st.st_size));
    return false;
  }
  base_ = static_cast<const char*>(p);
  size_ = static_cast<uint64_t>(st.st_size);
  mapped_ = segment;
  return true;
}

bool SpoolReader::Valid(uint64_t offset, uint32_t* len, bool* unwritten) const {
  // Written as subtractions: offset comes from the ledger file and may be anything, and
  // offset + n could wrap around (found by the spool fuzzer).
  const bool beyond = offset > size_ || size_ - offset < kRecordHeaderBytes;
  if (unwritten != nullptr) *unwritten = beyond;
  if (beyond) return false;
  const char* r = base_ + offset;
  uint32_t crc = __atomic_load_n(reinterpret_cast<const uint32_t*>(r), __ATOMIC_ACQUIRE);
  if (crc == 0) {
    if (unwritten != nullptr) *unwritten = true;
    return false;
  }
  std::memcpy(len, r + 4, 4);
  if (*len > kMaxPayloadBytes || size_ - offset - kRecordHeaderBytes < *len) return false;
  if (r[8] == 0) return false;  // no writer ever writes type 0
  return MaskCrc(Crc32c(r + 4, kRecordHeaderBytes - 4 + *len)) == crc;
}

bool SpoolReader::Resync(Position* pos) {
  uint32_t len = 0;
  if (pos->offset >= size_) return false;
  for (uint64_t off = pos->offset + kRecordAlign; off <= size_ && size_ - off >= kRecordHeaderBytes;
       off += kRecordAlign) {
    if (Valid(off, &len)) {
      skipped_bytes_ += off - pos->offset;
      pos->offset = off;
      return true;
    }
  }
  return false;
}

bool SpoolReader::Next(Position* pos, SpoolRecord* rec) {
  newer_type_ = 0;
  for (;;) {
    if (!Map(pos->segment)) {
      if (live_) return false;
      uint32_t next = NextSegmentFile(pos->segment);
      if (next == 0) return false;
      *pos = Position{next, kSegmentHeaderBytes};
      continue;
    }
    // A position no record can start at (from a corrupt ledger: inside the header, not 8-aligned)
    // moves forward to the next place one can; one past the end is left alone and reads nothing.
    // Records are read with aligned atomic loads, so a misaligned offset would be undefined
    // behaviour (found by the spool fuzzer).
    if (pos->offset < kSegmentHeaderBytes) {
      pos->offset = kSegmentHeaderBytes;
    } else if (pos->offset % kRecordAlign != 0 && pos->offset < size_) {
      pos->offset += kRecordAlign - pos->offset % kRecordAlign;
    }
    uint32_t len = 0;
    bool unwritten = false;
    bool ok = Valid(pos->offset, &len, &unwritten);
    if (!ok) {
      // `unwritten` comes from the same load of the CRC that made the record invalid. Loading it
      // again here (as before) raced with the logging thread: a record published between the two
      // loads looked torn, and Resync skipped it, losing one point in a live run.
      // Live: an unwritten record is being written by a thread of this process; wait for it.
      if (live_ && unwritten) return false;
      if (Resync(pos)) continue;
      if (live_) return false;
      // Recovered: the rest of this segment is torn or empty; go on in the next file.
      uint32_t next = NextSegmentFile(pos->segment);
      if (next == 0) return false;
      *pos = Position{next, kSegmentHeaderBytes};
      continue;
    }
    const char* r = base_ + pos->offset;
    if (static_cast<uint8_t>(r[8]) > kLastRecordType) {
      newer_type_ = static_cast<uint8_t>(r[8]);
      return false;
    }
    auto type = static_cast<RecordType>(r[8]);
    if (type == RecordType::kEnd) {
      // The writer created the next segment before sealing this one (SpoolWriter::Seal).
      if (!SegmentExists(pos->segment + 1)) {
        if (live_) return false;
        uint32_t next = NextSegmentFile(pos->segment);
        if (next == 0) return false;
        *pos = Position{next, kSegmentHeaderBytes};
        continue;
      }
      *pos = Position{pos->segment + 1, kSegmentHeaderBytes};
      continue;
    }
    rec->type = type;
    rec->flags = static_cast<uint8_t>(r[9]);
    rec->payload = std::string_view(r + kRecordHeaderBytes, len);
    pos->offset += RecordSpan(len);
    return true;
  }
}

}  // namespace nereid::client
