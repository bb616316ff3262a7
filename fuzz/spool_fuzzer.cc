// Fuzzes what `nereid sync` reads from a writer folder left behind by a crashed (or corrupted)
// writer: the ledger (client::Ledger::Open), the segment files (client::SpoolReader, recovered
// and live mode) and the record payloads (client::BatchBuilder::Add), in the order the Uploader
// uses them: resume at the pending batch's range, else at the acknowledged position.
//
// Input layout: byte 0 holds mode bits, the rest is the folder's content.
//   bit 0  fix up CRCs: each segment gets a valid header and every record whose CRC field is
//          non-zero gets its correct CRC, so the fuzzer reaches the payload decoders (otherwise
//          the bytes are written as they are, CRCs and all);
//   bit 1  read in live mode instead of recovered mode;
//   bit 2  the content starts with a ledger file, up to the first NUL byte;
//   bits 3-4  number of segment files (1 + value); the remaining bytes are split evenly.
// Properties besides "no crash, no UB, no leak": Next never moves backwards and always moves
// forward when it returns a record; BatchBuilder::Add takes a record whole (a multi-point record
// adds exactly its n points) or not at all.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "client/crc32c.h"
#include "client/ledger.h"
#include "client/records.h"
#include "client/spool_format.h"
#include "client/spool_reader.h"
#include "client/writer_dir.h"

namespace nc = nereid::client;

namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "spool fuzzer: %s\n", what);
    std::abort();
  }
}

// One scratch folder per process, in memory when /dev/shm exists. Never destroyed (a static
// string would be gone before the atexit handler that removes the folder runs).
const std::string& Dir() {
  static const std::string* dir = [] {
    std::string base = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
    auto* d = new std::string(base + "/nereid-spool-fuzz-XXXXXX");
    Check(mkdtemp(d->data()) != nullptr, "mkdtemp failed");
    std::atexit([] { std::filesystem::remove_all(Dir()); });
    return d;
  }();
  return *dir;
}

void WriteFile(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  Check(out.good(), "cannot write the scratch file");
}

std::string FixUp(std::string_view records, uint32_t number) {
  std::string seg(nc::kSegmentHeaderBytes, '\0');
  std::memcpy(seg.data(), nc::kSegmentMagic, 8);
  std::memcpy(seg.data() + 8, &nc::kSegmentVersion, 4);
  std::memcpy(seg.data() + 12, &number, 4);
  seg.append(records);
  size_t off = nc::kSegmentHeaderBytes;
  while (off + nc::kRecordHeaderBytes <= seg.size()) {
    uint32_t crc = 0, len = 0;
    std::memcpy(&crc, seg.data() + off, 4);
    std::memcpy(&len, seg.data() + off + 4, 4);
    if (len > nc::kMaxPayloadBytes || off + nc::kRecordHeaderBytes + len > seg.size()) break;
    if (crc != 0) {
      crc = nc::MaskCrc(nc::Crc32c(seg.data() + off + 4, nc::kRecordHeaderBytes - 4 + len));
      std::memcpy(seg.data() + off, &crc, 4);
    }
    off += nc::RecordSpan(len);
  }
  return seg;
}

// Reads [from, to) (to null: to the end) like Uploader::Build.
void Read(nc::SpoolReader* reader, nc::Position from, const nc::Position* to) {
  nc::BatchBuilder builder;
  nc::Position pos = from;
  nc::SpoolRecord rec;
  for (int guard = 0; guard < 100000; ++guard) {
    if (to != nullptr && !(pos < *to)) break;
    nc::Position before = pos;
    if (!reader->Next(&pos, &rec)) {
      Check(!(pos < before), "Next moved backwards");
      break;
    }
    Check(before < pos, "Next returned a record without moving forward");
    const uint64_t entries = builder.records();
    if (builder.Add(rec)) {
      Check(builder.records() == entries + nc::RecordEntries(rec),
            "an accepted record added other than its entries (points of a multi-point record)");
    } else {
      Check(builder.records() == entries, "a refused record added entries");
    }
  }
  std::string bytes;
  (void)builder.Take().SerializeToString(&bytes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string& dir = Dir();
  for (const auto& e : std::filesystem::directory_iterator(dir)) std::filesystem::remove(e);

  if (mode & 4) {
    size_t nul = rest.find('\0');
    WriteFile(dir + "/ledger", rest.substr(0, nul));
    rest = nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1);
  }
  const uint32_t segments = 1 + ((mode >> 3) & 3);
  const size_t part = rest.size() / segments;
  for (uint32_t i = 1; i <= segments; ++i) {
    std::string_view bytes =
        i == segments ? rest.substr((i - 1) * part) : rest.substr((i - 1) * part, part);
    WriteFile(nc::SegmentPath(dir, i), (mode & 1) ? FixUp(bytes, i) : std::string(bytes));
  }

  auto ledger = nc::Ledger::Open(dir);
  Check(ledger.ok(), "the ledger does not open in a writable folder");
  nc::SpoolReader reader(dir, (mode & 2) != 0);
  if (ledger->pending()) {
    nc::Position to = ledger->pending()->to;
    Read(&reader, ledger->pending()->from, &to);
  } else {
    Read(&reader, ledger->acked_position(), nullptr);
  }
  return 0;
}
