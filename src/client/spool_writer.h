// SpoolWriter: appends records to a writer folder's memory-mapped segment files.
//
// Many threads append at once without a lock: a record's space is reserved with one atomic add
// on the current segment's write offset, filled, and published by storing its CRC last (release).
// The one thread whose reservation crosses the end of a segment seals it (kEnd record) after
// creating the next one; the others wait for the new segment and retry there. A reader in the same
// process stops at the first record whose CRC is still zero; after a crash such a record is torn
// and readers skip it (SpoolReader).
//
// Page faults: the next segment is created ahead of need by a background thread (the preparer),
// its blocks allocated and its pages faulted in writable (MADV_POPULATE_WRITE), so the thread
// that seals a segment only swaps a pointer and log calls do not pay the kernel's page-cache
// zeroing or filesystem write faults. Then the preparer reads one byte of each page from user
// space (TouchPages in the .cc; on a VM that shadows page tables that is a second, costlier
// fault), first of the segment being written (segment 1 included, while logging starts in it),
// then of the spare, always ahead of the logger: when a tight logging loop catches up with it,
// it skips ahead rather than fault the same pages as the logger. The spare is handed over as
// soon as it is populated, so sealing never waits for the page reads. Without a ready spare,
// sealing creates the next segment itself, as before.
//
// Memory: only the current segment is mapped for writing; sealed segments are unmapped by
// ReleaseSealed() once every record in them is published. Segment structs are kept (a few dozen
// bytes each) because a slow thread may still hold a pointer to one.
//
// Disk cap: a new segment is not created when the spool would exceed the cap or the filesystem
// is nearly full; records are then dropped and counted until MaybeResume() succeeds (called by the
// sender after it deleted acknowledged segments). See docs/client.md for why dropping, not
// blocking.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "client/spool_format.h"
#include "nereid/status.h"

namespace nereid::client {

class SpoolWriter {
 public:
  // Creates segment 1 in `dir` (which must exist). Fails if it cannot be created and mapped.
  static Result<std::unique_ptr<SpoolWriter>> Open(std::string dir, uint64_t segment_bytes,
                                                   uint64_t disk_cap_bytes);
  ~SpoolWriter();

  // Appends one float point. Returns false when dropped (disk cap or I/O error). Thread-safe.
  bool AppendFloat(std::string_view path, double value, double step, bool has_step,
                   int64_t time_us);
  // Appends n float points of one path as kFloatPoints records, each holding as many points as
  // fit in kMaxFloatPointsSpan (and 1/64 of a segment), so a record is one reservation, a few
  // memcpy calls and one CRC. `steps` is null (no explicit step) or n steps; `times` is null
  // (every point at `time_us`) or n times. Each record is published whole or not at all, so a
  // crash never leaves part of one. Returns how many points were written (the rest dropped: disk
  // cap or I/O error). Thread-safe.
  size_t AppendFloats(std::string_view path, const double* values, const double* steps,
                      const int64_t* times, size_t n, int64_t time_us);
  // Appends one record with an already encoded payload. Thread-safe.
  bool Append(RecordType type, uint8_t flags, std::string_view payload);

  // The position just after every record reserved so far. Thread-safe.
  Position Frontier() const;
  // Unmaps sealed segments whose records are all published. Thread-safe.
  void ReleaseSealed();
  // Stops the preparer and deletes the spare segment it made (it holds no record). Call before
  // removing the folder, or a spare could be created in it while it is removed. Sealing creates
  // segments itself afterwards. Idempotent; thread-safe. Also done by the destructor.
  void StopPreparing();
  // Deletes segment files numbered below `segment` (their records are acknowledged).
  void DeleteBelow(uint32_t segment);
  // After the disk cap or a full disk stopped logging: starts a new segment if there is room
  // now. Returns true when logging is not stopped (any more). Thread-safe.
  bool MaybeResume();
  // True while records are dropped for want of a segment. Thread-safe.
  bool stalled() const { return stalled_.load(std::memory_order_acquire); }
  // Why the last segment could not be created ("the filesystem of ... is nearly full: 3 MiB
  // free"); empty before any failure. Thread-safe.
  std::string stall_reason() const;

  // Entries dropped and written so far: one per record, except that a kFloatPoints record counts
  // its points (so the n-th point logged is the n-th entry, whatever records carried it).
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  uint64_t written() const;
  uint64_t segment_bytes() const { return segment_bytes_; }
  const std::string& dir() const { return dir_; }

 private:
  struct Segment {
    std::atomic<uint64_t> pos{kSegmentHeaderBytes};
    uint32_t number = 0;
    char* base = nullptr;                          // writable mapping; null once released
    uint64_t released_scan = kSegmentHeaderBytes;  // ReleaseSealed's progress
    uint64_t touched = 0;  // the preparer's: pages below it are read or left to the logger
  };

  // TouchChunk reads pages in chunks of kTouchChunk bytes, and skips to kTouchLead bytes beyond
  // the logger's position whenever the logger has caught up with it.
  static constexpr uint64_t kTouchChunk = 64u << 10;
  static constexpr uint64_t kTouchLead = 256u << 10;

  SpoolWriter(std::string dir, uint64_t segment_bytes, uint64_t disk_cap_bytes);
  // The disk cap and free-space checks for creating segment `number`. Requires roll_mu_.
  Status CheckRoom(uint32_t number) const;
  // Creates, allocates and maps segment file `number` and writes its header; `populate` also
  // faults its pages in writable. Touches no shared state.
  Result<std::unique_ptr<Segment>> MakeSegment(uint32_t number, bool populate) const;
  // The successor of the current segment: the preparer's spare when it is `number`, else a new
  // file. Requires roll_mu_; asks the preparer for the next spare.
  Result<Segment*> NextSegment(uint32_t number);
  void PrepareLoop(Segment* first);
  // Makes the spare prep_wanted_ asks for. Preparer thread; `lk` holds prep_mu_ on entry and
  // exit, not in between.
  void MakeSpare(std::unique_lock<std::mutex>& lk);
  // Reads a byte of each page of the next chunk of `s` the logger has not reached (TouchPages in
  // the .cc) and advances s->touched. Preparer thread only.
  void TouchChunk(Segment* s);
  // Returns where to write `span` bytes, or null when the record must be dropped.
  char* Reserve(size_t span);
  // Called by the one thread that crossed the end of `full` at offset `at`.
  void Seal(Segment* full, uint64_t at);
  Result<Segment*> CreateSegment(uint32_t number);  // requires roll_mu_ (no spare involved)
  void Publish(char* rec, RecordType type, uint8_t flags, uint32_t len);

  const std::string dir_;
  const uint64_t segment_bytes_;
  const uint64_t limit_;  // last offset at which a record may start: size - tail reserve
  const uint64_t disk_cap_bytes_;

  std::atomic<Segment*> current_{nullptr};
  std::atomic<bool> stalled_{false};  // true while no segment could be created (cap reached)
  std::atomic<uint64_t> dropped_{0};
  // Entries written, counted per thread: a shared counter was a locked add per log call on a
  // cache line every logging thread writes, and it shared that line with current_, which every
  // call reads. A thread takes slot k (kCounterSlots, round robin) on its first call; threads
  // that share a slot stay correct (the add is atomic), only slower.
  struct alignas(64) CounterSlot {
    std::atomic<uint64_t> n{0};
  };
  static constexpr size_t kCounterSlots = 16;
  void CountWritten(uint64_t n);
  CounterSlot written_[kCounterSlots];

  mutable std::mutex roll_mu_;  // guards segments_, sealed_, lowest_on_disk_, stall_reason_ and
                                // segment creation
  std::string stall_reason_;
  std::vector<std::unique_ptr<Segment>> segments_;
  std::vector<Segment*> sealed_;  // sealed but still mapped for writing
  uint32_t lowest_on_disk_ = 1;

  // The preparer. Lock order: roll_mu_ before prep_mu_; the preparer holds neither while it
  // creates a file.
  std::thread preparer_;
  std::once_flag joined_;
  std::mutex prep_mu_;
  std::condition_variable prep_cv_;
  bool prep_stop_ = false;          // guarded by prep_mu_
  uint32_t prep_wanted_ = 0;        // segment number to prepare next, 0: none; prep_mu_
  bool prep_busy_ = false;          // a spare is being made; prep_mu_
  std::unique_ptr<Segment> spare_;  // ready, populated, not yet in use; prep_mu_
  // Held by the preparer while it reads a chunk of a segment's pages, and by ReleaseSealed while
  // it unmaps one (lock order: roll_mu_ before touch_mu_).
  std::mutex touch_mu_;
};

}  // namespace nereid::client
