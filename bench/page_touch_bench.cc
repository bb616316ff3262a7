// What a spool segment's pages cost before and at the first log call into them, the way the
// client's segment preparer makes them (src/client/spool_writer.cc): a file of 64 MiB,
// posix_fallocate, mmap MAP_SHARED, MADV_POPULATE_WRITE. Then 48-byte records (one locked add and
// 40 bytes of stores, as a float-point log call) are written over the whole mapping, and the
// cost per record is printed for three cases:
//   - populated only;
//   - populated, then one byte of each page read from user space by another thread (what the
//     preparer does since 2026-12-02);
//   - the same mapping written a second time.
// Also the file recycled with a new mapping (unmapped and mapped again, its pages still in the
// page cache): what populating and reading it costs, i.e. what recycling a segment file would
// save if its mapping is not kept.
//
//   build/bench/page_touch_bench [directory, default /tmp]
//
// Figures in docs/performance.md ("Client log call").
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

namespace {

constexpr size_t kBytes = size_t{64} << 20;
constexpr size_t kRecord = 48;
using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

void ReadEachPage(const char* b) {
  for (size_t off = 0; off < kBytes; off += 4096) {
    (void)*reinterpret_cast<const volatile char*>(b + off);
  }
}

double NsPerRecord(char* b) {
  auto t0 = Clock::now();
  for (size_t off = 0; off + kRecord <= kBytes; off += kRecord) {
    // As Reserve's fetch_add: a locked instruction between records.
    std::atomic_ref<uint64_t>(*reinterpret_cast<uint64_t*>(b + (off & ~size_t{7})))
        .fetch_add(0, std::memory_order_relaxed);
    std::memset(b + off + 8, 1, kRecord - 8);
  }
  return std::chrono::duration<double, std::nano>(Clock::now() - t0).count() /
         static_cast<double>(kBytes / kRecord);
}

struct File {
  int fd = -1;
  std::string path;
};

File Create(const std::string& dir, const char* name) {
  File f{-1, dir + "/" + name};
  unlink(f.path.c_str());
  f.fd = open(f.path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (f.fd < 0 || posix_fallocate(f.fd, 0, static_cast<off_t>(kBytes)) != 0) {
    std::perror(f.path.c_str());
    std::exit(1);
  }
  return f;
}

char* Map(const File& f) {
  void* p = mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_SHARED, f.fd, 0);
  if (p == MAP_FAILED) {
    std::perror("mmap");
    std::exit(1);
  }
  return static_cast<char*>(p);
}

void Done(File& f, char* b) {
  munmap(b, kBytes);
  close(f.fd);
  unlink(f.path.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "/tmp";
  std::printf("64 MiB segment files in %s, %zu-byte records\n", dir.c_str(), kRecord);

  File a = Create(dir, "page-touch-a.bin");
  char* pa = Map(a);
  auto t0 = Clock::now();
  if (madvise(pa, kBytes, MADV_POPULATE_WRITE) != 0) std::perror("MADV_POPULATE_WRITE");
  std::printf("fresh file: MADV_POPULATE_WRITE %.1f ms\n", MsSince(t0));
  std::printf("  populated only:                 %6.1f ns/record\n", NsPerRecord(pa));
  std::printf("  the same mapping, second pass:  %6.1f ns/record\n", NsPerRecord(pa));
  Done(a, pa);

  File b = Create(dir, "page-touch-b.bin");
  char* pb = Map(b);
  madvise(pb, kBytes, MADV_POPULATE_WRITE);
  t0 = Clock::now();
  std::thread([pb] { ReadEachPage(pb); }).join();
  std::printf("fresh file: reading one byte per page on another thread %.1f ms\n", MsSince(t0));
  std::printf("  populated, then pages read:     %6.1f ns/record\n", NsPerRecord(pb));
  munmap(pb, kBytes);
  pb = Map(b);
  t0 = Clock::now();
  madvise(pb, kBytes, MADV_POPULATE_WRITE);
  std::printf("recycled file, new mapping: MADV_POPULATE_WRITE %.1f ms, ", MsSince(t0));
  t0 = Clock::now();
  ReadEachPage(pb);
  std::printf("reading one byte per page %.1f ms\n", MsSince(t0));
  Done(b, pb);
  return 0;
}
