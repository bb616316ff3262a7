#include "client/spool_writer.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

#include "client/crc32c.h"
#include "client/float_points.h"
#include "client/writer_dir.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14; older headers lack it, older kernels say EINVAL
#endif

namespace nereid::client {
namespace {

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Reads one byte of each page of [b, b + n). The value is discarded.
//
// Why: on the VMs we measured (and on any hypervisor that shadows the guest's page tables), a
// page that MADV_POPULATE_WRITE mapped still costs a trip to the hypervisor on the first access
// from user space, ~8 us per 4 KiB page, and a log call that lands on it paid that: ~100 ns per
// 48-byte record, nearly all of a log call (docs/performance.md). Any user-space access, a read
// included and from any thread, pays it once, so the preparer does it ahead of the log calls.
//
// The read may race with log calls writing the same page. It changes nothing and its value is
// unused, so on x86-64 it is a plain load in asm, which the compiler cannot drop and TSan does
// not see; elsewhere a relaxed atomic load.
void TouchPages(const char* b, uint64_t n) {
  for (uint64_t off = 0; off < n; off += 4096) {
#if defined(__x86_64__)
    char c;
    asm volatile("movb %1, %0" : "=r"(c) : "m"(b[off]));
#else
    (void)__atomic_load_n(b + off, __ATOMIC_RELAXED);
#endif
  }
}

// A record's bytes [4, 12) (length, type, flags, reserved 0) as one word; the spool is
// little-endian, as the hosts that write it.
uint64_t HeaderWord(RecordType type, uint8_t flags, uint32_t len) {
  return uint64_t{len} | uint64_t{static_cast<uint8_t>(type)} << 32 | uint64_t{flags} << 40;
}

}  // namespace

SpoolWriter::SpoolWriter(std::string dir, uint64_t segment_bytes, uint64_t disk_cap_bytes)
    : dir_(std::move(dir)),
      segment_bytes_(segment_bytes),
      limit_(segment_bytes - kSegmentTailReserve),
      disk_cap_bytes_(disk_cap_bytes) {}

Result<std::unique_ptr<SpoolWriter>> SpoolWriter::Open(std::string dir, uint64_t segment_bytes,
                                                       uint64_t disk_cap_bytes) {
  if (segment_bytes < (64u << 10) || segment_bytes % 4096 != 0) {
    return InvalidArgument("segment_bytes must be a multiple of 4096 and at least 64 KiB");
  }
  std::unique_ptr<SpoolWriter> w(new SpoolWriter(std::move(dir), segment_bytes, disk_cap_bytes));
  Segment* first;
  {
    std::lock_guard lock(w->roll_mu_);
    NEREID_ASSIGN_OR_RETURN(first, w->CreateSegment(1));
    w->current_.store(first, std::memory_order_release);
    w->prep_wanted_ = 2;
  }
  SpoolWriter* self = w.get();
  w->preparer_ = std::thread([self, first] { self->PrepareLoop(first); });
  return w;
}

SpoolWriter::~SpoolWriter() {
  StopPreparing();
  for (auto& s : segments_) {
    if (s->base) munmap(s->base, segment_bytes_);
  }
}

void SpoolWriter::StopPreparing() {
  std::unique_ptr<Segment> spare;
  {
    std::lock_guard lock(prep_mu_);
    prep_stop_ = true;
  }
  prep_cv_.notify_all();
  std::call_once(joined_, [this] {
    if (preparer_.joinable()) preparer_.join();  // not started when Open failed
  });
  {
    std::lock_guard lock(prep_mu_);
    spare = std::move(spare_);
  }
  if (spare) {
    munmap(spare->base, segment_bytes_);
    unlink(SegmentPath(dir_, spare->number).c_str());
  }
}

void SpoolWriter::PrepareLoop(Segment* first) {
  // Fault in the segment logging has already started in. madvise only maps pages (it never
  // changes their bytes), so it is safe while other threads write there; the write-every-page
  // fallback of MakeSegment would not be, so without MADV_POPULATE_WRITE this is skipped and the
  // logger faults its pages itself.
  if (madvise(first->base, segment_bytes_, MADV_POPULATE_WRITE) == 0) first->touched = 0;
  std::unique_lock lk(prep_mu_);
  for (;;) {
    if (prep_stop_) return;
    if (prep_wanted_ != 0) {
      MakeSpare(lk);
      continue;
    }
    // Then read pages, a chunk at a time so that a request for a spare or a stop waits for one
    // chunk at most: the current segment's first (the logger is there), then the spare's.
    Segment* cur = current_.load(std::memory_order_acquire);
    Segment* target = cur->touched < segment_bytes_                ? cur
                      : spare_ && spare_->touched < segment_bytes_ ? spare_.get()
                                                                   : nullptr;
    if (target == nullptr) {
      prep_cv_.wait(lk);  // for a request or a stop (both notify under prep_mu_)
      continue;
    }
    // The Segment outlives the chunk: segments_ keeps it, or StopPreparing deletes the spare
    // after joining this thread.
    lk.unlock();
    TouchChunk(target);
    lk.lock();
  }
}

void SpoolWriter::MakeSpare(std::unique_lock<std::mutex>& lk) {
  uint32_t number = prep_wanted_;
  prep_wanted_ = 0;
  lk.unlock();
  Status room;
  {
    std::lock_guard roll(roll_mu_);
    room = CheckRoom(number);
    std::lock_guard prep(prep_mu_);
    // The segment may have been made by a sealing thread while we waited for roll_mu_.
    Segment* cur = current_.load(std::memory_order_acquire);
    if (cur->number >= number || prep_stop_) room = Internal("not needed");
    if (room.ok()) prep_busy_ = true;
  }
  // On failure (cap, full disk) there is simply no spare: the sealing thread then tries itself
  // and reports why it could not.
  Result<std::unique_ptr<Segment>> made = Internal("");
  if (room.ok()) made = MakeSegment(number, true);
  lk.lock();
  if (room.ok()) {
    // Handed over before its pages are read: a sealing thread need not wait for that, and
    // TouchChunk keeps ahead of the logger once it writes there.
    if (made.ok()) spare_ = std::move(*made);
    prep_busy_ = false;
    prep_cv_.notify_all();
  }
}

void SpoolWriter::TouchChunk(Segment* s) {
  std::lock_guard lock(touch_mu_);  // ReleaseSealed unmaps under it
  const uint64_t w = s->pos.load(std::memory_order_relaxed);
  if (s->base == nullptr || w > limit_) {  // sealed: nobody writes here any more
    s->touched = segment_bytes_;
    return;
  }
  uint64_t off = s->touched;
  // Pages the logger has reached, or is about to, are left to it: reading the page it is
  // writing makes both take the same fault (the tight loop got slower when the preparer read
  // every page in order), and a page already written needs nothing. So when the logger has
  // caught up, it faults kTouchLead bytes itself while this thread reads the pages beyond.
  if (w > kSegmentHeaderBytes && off < w + kTouchLead)
    off = (w + kTouchLead + 4095) & ~uint64_t{4095};
  if (off >= segment_bytes_) {
    s->touched = segment_bytes_;
    return;
  }
  const uint64_t end = std::min(off + kTouchChunk, segment_bytes_);
  TouchPages(s->base + off, end - off);
  s->touched = end;
}

Status SpoolWriter::CheckRoom(uint32_t number) const {
  uint64_t on_disk = uint64_t{number - lowest_on_disk_ + 1} * segment_bytes_;
  if (on_disk > disk_cap_bytes_) {
    return InsufficientStorage("the spool reached its disk cap of " +
                               std::to_string(disk_cap_bytes_ >> 20) +
                               " MiB: the server has not taken the data yet");
  }
  struct statvfs fs {};
  if (statvfs(dir_.c_str(), &fs) == 0 &&
      uint64_t{fs.f_bavail} * fs.f_frsize < 2 * segment_bytes_ + (uint64_t{64} << 20)) {
    return InsufficientStorage("the disk is full: the filesystem of " + dir_ + " has " +
                               std::to_string((uint64_t{fs.f_bavail} * fs.f_frsize) >> 20) +
                               " MiB free, the spool keeps 64 MiB free for the system");
  }
  return Status::Ok();
}

Result<std::unique_ptr<SpoolWriter::Segment>> SpoolWriter::MakeSegment(uint32_t number,
                                                                       bool populate) const {
  std::string path = SegmentPath(dir_, number);
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Internal("cannot create " + path + ": " + std::strerror(errno));
  // Allocate the blocks now: a store into a sparse mapping on a full disk would be SIGBUS.
  int rc = posix_fallocate(fd, 0, static_cast<off_t>(segment_bytes_));
  if (rc != 0) {
    close(fd);
    unlink(path.c_str());
    return InsufficientStorage("cannot allocate " + path + ": " + std::strerror(rc));
  }
  void* base = mmap(nullptr, segment_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (base == MAP_FAILED) {
    unlink(path.c_str());
    return Internal("cannot map " + path + ": " + std::strerror(errno));
  }
  char* b = static_cast<char*>(base);
  // Pages to read from user space (TouchChunk) only after MADV_POPULATE_WRITE: the fallback's
  // writes were such accesses already, and an unpopulated mapping is the logger's to fault.
  uint64_t touched = segment_bytes_;
  if (populate && madvise(b, segment_bytes_, MADV_POPULATE_WRITE) == 0) touched = 0;
  if (populate && touched != 0) {
    // Kernels before 5.14: a write to each page does the same. Nobody else sees this mapping yet,
    // and the file is all zeros, so writing a zero changes nothing.
    for (uint64_t off = 0; off < segment_bytes_; off += 4096) {
      *reinterpret_cast<volatile char*>(b + off) = 0;
    }
  }
  std::memcpy(b, kSegmentMagic, 8);
  std::memcpy(b + 8, &kSegmentVersion, 4);
  std::memcpy(b + 12, &number, 4);
  int64_t now = NowMicros();
  std::memcpy(b + 16, &now, 8);
  auto seg = std::make_unique<Segment>();
  seg->number = number;
  seg->base = b;
  seg->touched = touched;
  return seg;
}

Result<SpoolWriter::Segment*> SpoolWriter::CreateSegment(uint32_t number) {
  NEREID_RETURN_IF_ERROR(CheckRoom(number));
  NEREID_ASSIGN_OR_RETURN(std::unique_ptr<Segment> seg, MakeSegment(number, false));
  segments_.push_back(std::move(seg));
  return segments_.back().get();
}

Result<SpoolWriter::Segment*> SpoolWriter::NextSegment(uint32_t number) {
  std::unique_ptr<Segment> spare;
  {
    std::unique_lock lk(prep_mu_);
    // A spare being made is a few milliseconds from ready; making our own would collide on its
    // file name.
    prep_cv_.wait(lk, [&] { return !prep_busy_; });
    // A spare is always for current + 1 (PrepareLoop checks under roll_mu_, and sealing waits
    // while one is made), which is the number asked for here.
    if (spare_ && spare_->number == number) spare = std::move(spare_);
  }
  Segment* next;
  if (spare) {
    // Room was checked when the spare was made: the cap counts from lowest_on_disk_, which only
    // grows, and the spare's blocks are already allocated, so a disk that filled since cannot
    // make a store into it fault.
    segments_.push_back(std::move(spare));
    next = segments_.back().get();
  } else {
    NEREID_ASSIGN_OR_RETURN(next, CreateSegment(number));
  }
  {
    std::lock_guard lk(prep_mu_);
    prep_wanted_ = number + 1;
  }
  prep_cv_.notify_all();
  return next;
}

char* SpoolWriter::Reserve(size_t span) {
  for (;;) {
    Segment* s = current_.load(std::memory_order_acquire);
    uint64_t start = s->pos.fetch_add(span, std::memory_order_relaxed);
    if (start + span <= limit_) return s->base + start;
    if (start <= limit_) {
      Seal(s, start);
      continue;
    }
    // Another thread is sealing s; wait for its successor, unless the cap stopped us.
    while (current_.load(std::memory_order_acquire) == s) {
      if (stalled_.load(std::memory_order_acquire)) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return nullptr;
      }
      std::this_thread::yield();
    }
  }
}

void SpoolWriter::Seal(Segment* full, uint64_t at) {
  std::lock_guard lock(roll_mu_);
  // The successor exists before the kEnd record is published, so a reader that sees kEnd finds
  // the next file (unless the cap stopped us, and then the reader waits at kEnd).
  Result<Segment*> next = NextSegment(full->number + 1);
  Publish(full->base + at, RecordType::kEnd, 0, 0);
  sealed_.push_back(full);
  if (next.ok()) {
    current_.store(*next, std::memory_order_release);
  } else {
    stall_reason_ = next.status().message();
    stalled_.store(true, std::memory_order_release);
  }
}

std::string SpoolWriter::stall_reason() const {
  std::lock_guard lock(roll_mu_);
  return stall_reason_;
}

bool SpoolWriter::MaybeResume() {
  if (!stalled_.load(std::memory_order_acquire)) return true;
  std::lock_guard lock(roll_mu_);
  Segment* s = current_.load(std::memory_order_acquire);
  Result<Segment*> next = NextSegment(s->number + 1);
  if (!next.ok()) {
    stall_reason_ = next.status().message();
    return false;
  }
  current_.store(*next, std::memory_order_release);
  stalled_.store(false, std::memory_order_release);
  return true;
}

void SpoolWriter::Publish(char* rec, RecordType type, uint8_t flags, uint32_t len) {
  // One 8-byte store: the CRC reads these bytes back as one word, and a load that spans several
  // smaller stores waits for them to reach the cache (a store-forwarding stall).
  const uint64_t head = HeaderWord(type, flags, len);
  std::memcpy(rec + 4, &head, 8);
  uint32_t crc = MaskCrc(Crc32c(rec + 4, kRecordHeaderBytes - 4 + len));
  // The CRC is stored last: a reader that sees it non-zero sees the whole record.
  __atomic_store_n(reinterpret_cast<uint32_t*>(rec), crc, __ATOMIC_RELEASE);
}

bool SpoolWriter::AppendFloat(std::string_view path, double value, double step, bool has_step,
                              int64_t time_us) {
  uint32_t len = static_cast<uint32_t>(24 + path.size());
  char* rec = Reserve(RecordSpan(len));
  if (rec == nullptr) return false;
  // As Publish, but the CRC of the fixed part is taken from registers, not read back.
  const uint64_t head = HeaderWord(RecordType::kFloatPoint, has_step ? kFlagHasStep : 0, len);
  const auto v = std::bit_cast<uint64_t>(value);
  const auto s = std::bit_cast<uint64_t>(step);
  const auto t = static_cast<uint64_t>(time_us);
  char* p = rec + kRecordHeaderBytes;
  std::memcpy(rec + 4, &head, 8);
  std::memcpy(p, &v, 8);
  std::memcpy(p + 8, &s, 8);
  std::memcpy(p + 16, &t, 8);
  std::memcpy(p + 24, path.data(), path.size());
  const uint32_t crc = MaskCrc(Crc32cWordsThen(head, v, s, t, path.data(), path.size()));
  __atomic_store_n(reinterpret_cast<uint32_t*>(rec), crc, __ATOMIC_RELEASE);
  CountWritten(1);
  return true;
}

size_t SpoolWriter::AppendFloats(std::string_view path, const double* values, const double* steps,
                                 const int64_t* times, size_t n, int64_t time_us) {
  const bool has_step = steps != nullptr;
  const bool per_point_time = times != nullptr;
  const uint8_t flags = static_cast<uint8_t>((has_step ? kFlagHasStep : 0) |
                                             (per_point_time ? kFlagPerPointTime : 0));
  const uint64_t fixed =
      kRecordHeaderBytes + FloatPointsPayloadBytes(0, has_step, per_point_time, path.size());
  const uint64_t per_point = FloatPointsPayloadBytes(1, has_step, per_point_time, 0) -
                             FloatPointsPayloadBytes(0, has_step, per_point_time, 0);
  const uint64_t max_span = std::min<uint64_t>(kMaxFloatPointsSpan, segment_bytes_ / 64);
  // At least one point per record, even for a path so long that the bound leaves no room.
  const uint64_t per_record = max_span > fixed + per_point ? (max_span - fixed) / per_point : 1;
  size_t done = 0;
  while (done < n) {
    const auto k = static_cast<uint32_t>(std::min<uint64_t>(per_record, n - done));
    const uint64_t len = FloatPointsPayloadBytes(k, has_step, per_point_time, path.size());
    char* rec = Reserve(RecordSpan(len));
    if (rec == nullptr) {
      dropped_.fetch_add(n - done - 1, std::memory_order_relaxed);  // Reserve counted one
      break;
    }
    // Padding bytes are zero already: the space is fresh.
    PutFloatPoints(rec + kRecordHeaderBytes, path, values + done, has_step ? steps + done : nullptr,
                   per_point_time ? times + done : nullptr, k, time_us);
    Publish(rec, RecordType::kFloatPoints, flags, static_cast<uint32_t>(len));
    done += k;
  }
  CountWritten(done);
  return done;
}

bool SpoolWriter::Append(RecordType type, uint8_t flags, std::string_view payload) {
  if (payload.size() > kMaxPayloadBytes) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  uint32_t len = static_cast<uint32_t>(payload.size());
  char* rec = Reserve(RecordSpan(len));
  if (rec == nullptr) return false;
  std::memcpy(rec + kRecordHeaderBytes, payload.data(), payload.size());
  Publish(rec, type, flags, len);
  CountWritten(1);
  return true;
}

void SpoolWriter::CountWritten(uint64_t n) {
  static std::atomic<size_t> next_slot{0};
  thread_local const size_t slot =
      next_slot.fetch_add(1, std::memory_order_relaxed) % kCounterSlots;
  written_[slot].n.fetch_add(n, std::memory_order_relaxed);
}

uint64_t SpoolWriter::written() const {
  uint64_t sum = 0;
  for (const CounterSlot& c : written_) sum += c.n.load(std::memory_order_relaxed);
  return sum;
}

Position SpoolWriter::Frontier() const {
  Segment* s = current_.load(std::memory_order_acquire);
  uint64_t pos = s->pos.load(std::memory_order_acquire);
  if (pos > limit_) return Position{s->number + 1, kSegmentHeaderBytes};
  return Position{s->number, pos};
}

void SpoolWriter::ReleaseSealed() {
  std::lock_guard lock(roll_mu_);
  for (auto it = sealed_.begin(); it != sealed_.end();) {
    Segment* s = *it;
    bool complete = false;
    for (;;) {
      const char* rec = s->base + s->released_scan;
      uint32_t crc = __atomic_load_n(reinterpret_cast<const uint32_t*>(rec), __ATOMIC_ACQUIRE);
      if (crc == 0) break;
      uint32_t len;
      std::memcpy(&len, rec + 4, 4);
      if (static_cast<RecordType>(rec[8]) == RecordType::kEnd) {
        complete = true;
        break;
      }
      s->released_scan += RecordSpan(len);
    }
    if (complete) {
      std::lock_guard touch(touch_mu_);  // the preparer may be reading its pages
      munmap(s->base, segment_bytes_);
      s->base = nullptr;
      it = sealed_.erase(it);
    } else {
      ++it;
    }
  }
}

void SpoolWriter::DeleteBelow(uint32_t segment) {
  std::lock_guard lock(roll_mu_);
  while (lowest_on_disk_ < segment) {
    unlink(SegmentPath(dir_, lowest_on_disk_).c_str());
    ++lowest_on_disk_;
  }
}

}  // namespace nereid::client
