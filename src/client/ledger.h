// Ledger: the writer folder's record of which spool ranges became which batch, and which batches
// the server acknowledged. Exactly-once across crashes rests on it: a batch is written here
// (its sequence and range) before it is first sent, so whoever resumes the folder (the same
// process, or `nereid sync` after a crash) resends that exact range under that exact sequence,
// and the server, which already applied it if the answer was merely lost, acknowledges it as a
// duplicate instead of applying it twice.
//
// Format: text lines appended with write(2); "B <seq> <seg> <off> <seg> <off>" before a batch is
// sent, "A <seq> <seg> <off>" after its ack. A torn last line is ignored. Compacted by rewriting
// when it grows past 256 KiB.
//
// Thread-safety: one thread at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "client/spool_format.h"
#include "nereid/status.h"

namespace nereid::client {

struct PendingBatch {
  uint64_t sequence = 0;
  Position from;
  Position to;
};

class Ledger {
 public:
  // Opens (creating if needed) dir/ledger and reads its state.
  static Result<Ledger> Open(const std::string& dir);
  Ledger(Ledger&&) noexcept;
  Ledger& operator=(Ledger&&) noexcept;
  ~Ledger();

  uint64_t acked_sequence() const { return acked_seq_; }
  Position acked_position() const { return acked_pos_; }
  // A batch written down but not acknowledged: it must be resent as it is.
  const std::optional<PendingBatch>& pending() const { return pending_; }

  Status BeginBatch(const PendingBatch& batch);
  Status AckBatch(uint64_t sequence);

 private:
  explicit Ledger(std::string path) : path_(std::move(path)) {}
  Status AppendLine(const std::string& line);
  Status Compact();

  std::string path_;
  int fd_ = -1;
  uint64_t bytes_ = 0;
  uint64_t acked_seq_ = 0;
  Position acked_pos_;
  std::optional<PendingBatch> pending_;
};

}  // namespace nereid::client
