#include "client/ledger.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace nereid::client {
namespace {

constexpr uint64_t kCompactBytes = 256 << 10;

std::string BeginLine(const PendingBatch& b) {
  std::ostringstream o;
  o << "B " << b.sequence << ' ' << b.from.segment << ' ' << b.from.offset << ' ' << b.to.segment
    << ' ' << b.to.offset << '\n';
  return o.str();
}

std::string AckLine(uint64_t seq, Position p) {
  std::ostringstream o;
  o << "A " << seq << ' ' << p.segment << ' ' << p.offset << '\n';
  return o.str();
}

}  // namespace

Ledger::Ledger(Ledger&& o) noexcept
    : path_(std::move(o.path_)),
      fd_(o.fd_),
      bytes_(o.bytes_),
      acked_seq_(o.acked_seq_),
      acked_pos_(o.acked_pos_),
      pending_(o.pending_) {
  o.fd_ = -1;
}

Ledger& Ledger::operator=(Ledger&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) close(fd_);
    path_ = std::move(o.path_);
    fd_ = o.fd_;
    bytes_ = o.bytes_;
    acked_seq_ = o.acked_seq_;
    acked_pos_ = o.acked_pos_;
    pending_ = o.pending_;
    o.fd_ = -1;
  }
  return *this;
}

Ledger::~Ledger() {
  if (fd_ >= 0) close(fd_);
}

Result<Ledger> Ledger::Open(const std::string& dir) {
  Ledger l(dir + "/ledger");
  std::ifstream in(l.path_);
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // no newline: torn last line
    l.bytes_ += line.size() + 1;
    char kind = 0;
    unsigned long long seq = 0, s1 = 0, o1 = 0, s2 = 0, o2 = 0;
    if (std::sscanf(line.c_str(), "%c %llu %llu %llu %llu %llu", &kind, &seq, &s1, &o1, &s2, &o2) <
        4) {
      continue;
    }
    if (kind == 'B') {
      l.pending_ =
          PendingBatch{seq, {static_cast<uint32_t>(s1), o1}, {static_cast<uint32_t>(s2), o2}};
    } else if (kind == 'A' && seq >= l.acked_seq_) {
      l.acked_seq_ = seq;
      l.acked_pos_ = Position{static_cast<uint32_t>(s1), o1};
      if (l.pending_ && l.pending_->sequence <= seq) l.pending_.reset();
    }
  }
  l.fd_ = open(l.path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (l.fd_ < 0) return Internal("cannot open " + l.path_ + ": " + std::strerror(errno));
  // A torn last line would glue itself to the next one: start on a fresh line.
  if (in.eof() && !line.empty()) NEREID_RETURN_IF_ERROR(l.AppendLine("\n"));
  return l;
}

Status Ledger::AppendLine(const std::string& line) {
  off_t end = lseek(fd_, 0, SEEK_END);
  ssize_t n = write(fd_, line.data(), line.size());
  if (n != static_cast<ssize_t>(line.size())) {
    int err = n < 0 ? errno : ENOSPC;  // a short write is what a full disk does at a page edge
    // Cut the torn part off: the next line would otherwise glue onto it and be misread
    // ("B 5 1 100 1 2B 5 1 100 1 200" reads as a batch ending at offset 2). Shrinking a file
    // needs no free space.
    if (n > 0 && end >= 0 && ftruncate(fd_, end) != 0) {
      return Internal("cannot write " + path_ +
                      " and cannot undo a torn line: " + std::strerror(errno));
    }
    return Status(err == ENOSPC || err == EDQUOT || err == EFBIG ? StatusCode::kInsufficientStorage
                                                                 : StatusCode::kInternal,
                  "cannot write " + path_ + ": " + std::strerror(err));
  }
  bytes_ += line.size();
  return Status::Ok();
}

Status Ledger::BeginBatch(const PendingBatch& batch) {
  NEREID_RETURN_IF_ERROR(AppendLine(BeginLine(batch)));
  pending_ = batch;
  return Status::Ok();
}

Status Ledger::AckBatch(uint64_t sequence) {
  if (!pending_ || pending_->sequence != sequence) {
    return Internal("ack of batch " + std::to_string(sequence) + " that is not pending");
  }
  Position to = pending_->to;
  NEREID_RETURN_IF_ERROR(AppendLine(AckLine(sequence, to)));
  acked_seq_ = sequence;
  acked_pos_ = to;
  pending_.reset();
  if (bytes_ > kCompactBytes) return Compact();
  return Status::Ok();
}

Status Ledger::Compact() {
  std::string tmp = path_ + ".tmp";
  std::string line = AckLine(acked_seq_, acked_pos_);
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Internal("cannot create " + tmp + ": " + std::strerror(errno));
  bool ok = write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  close(fd);
  if (!ok || std::rename(tmp.c_str(), path_.c_str()) != 0) {
    unlink(tmp.c_str());  // the old ledger stays in use and complete
    return Internal("cannot compact " + path_);
  }
  close(fd_);
  fd_ = open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd_ < 0) return Internal("cannot reopen " + path_ + ": " + std::strerror(errno));
  bytes_ = line.size();
  return Status::Ok();
}

}  // namespace nereid::client
