// Column codecs of the series chunk format: integer columns as byte planes of zigzag residuals of
// a per-column predictor (raw, delta, or delta-of-delta), and double columns mapped to integers
// whose order matches the numeric order. Spec: docs/formats/series-chunk.md.
//
// Byte planes put bytes with the same statistics together: each plane is stored raw (noise bytes,
// read in place) or as its own zstd frame (skewed high bytes, where zstd's Huffman stage codes it
// near its entropy), so decoding is a few table-driven Huffman passes plus branch-free loops.
//
// Thread-safety: free functions over caller-owned buffers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nereid::series::internal {

// Unsigned arithmetic throughout: wrap-around is the intended mod 2^64 behaviour.
inline uint64_t ZigZag(uint64_t v) {
  return (v << 1) ^ (0 - (v >> 63));
}
inline uint64_t UnZigZag(uint64_t z) {
  return (z >> 1) ^ (0 - (z & 1));
}

void PutVarint(std::string& out, uint64_t v);

// Bounds-checked reads over a byte range it does not own. Every read returns false (and reads
// nothing) when the range is too short, so a truncated blob can never be over-read.
class ByteReader {
 public:
  explicit ByteReader(std::string_view in)
      : p_(reinterpret_cast<const uint8_t*>(in.data())), end_(p_ + in.size()) {}
  bool ReadByte(uint8_t* b);
  // At most 10 bytes; false on truncation or a varint longer than 64 bits.
  bool ReadVarint(uint64_t* v);
  // Points *data at the next n bytes and skips them.
  bool ReadBytes(size_t n, const uint8_t** data);
  // The next byte; only when remaining() > 0.
  uint8_t Peek() const { return *p_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

// A section: `size` bytes whose size the reader knows from context. Stored raw (tag 0) or, when
// that saves at least 1/32 of the bytes, as one zstd frame (tag 1, varint frame length, frame).
void PutSection(std::string& out, std::string_view data);
// Reads a section of exactly `size` bytes. *data points into the input (raw) or at `scratch`
// (compressed), which must have room for `size` bytes. False on malformed input.
bool ReadSection(ByteReader& in, size_t size, uint8_t* scratch, const uint8_t** data);

// Encoders append to `out`.
void EncodeIntColumn(std::span<const uint64_t> values, std::string& out);
// `bits` are the IEEE-754 bit patterns of doubles; every pattern round-trips exactly.
void EncodeDoubleColumn(std::span<const uint64_t> bits, std::string& out);
// Steps: consecutive integers, integers, or any doubles, whichever applies (bit-exact).
void EncodeStepColumn(std::span<const double> steps, std::string& out);

// Decoders write value i as 8 bytes (memcpy) at out + i * stride, so they can fill one member of
// an array of structs. They return false on malformed input, having written only inside
// [out, out + n * stride).
bool DecodeIntColumn(ByteReader& in, size_t n, uint8_t* out, size_t stride);
bool DecodeDoubleColumn(ByteReader& in, size_t n, uint8_t* out, size_t stride);
bool DecodeStepColumn(ByteReader& in, size_t n, uint8_t* out, size_t stride);
// The rest of a mode-0 (consecutive) step column, whose mode byte has been read: its first step
// s0 (step i is s0 + i), validated as DecodeStepColumn does, without writing the n steps.
bool ReadConsecutiveStart(ByteReader& in, size_t n, int64_t* s0);
// Decodes only values [begin, end) (begin <= end <= n) of a double column of n values into
// out[0, end - begin), and moves *in past the whole column. The predictor state at `begin` comes
// from sums over the earlier residuals (vectorizable) rather than the serial rebuild, so a range
// of a long column costs little more than the range.
bool DecodeDoubleColumnRange(ByteReader& in, size_t n, size_t begin, size_t end, double* out);
// DecodeDoubleColumnRange when the bit patterns of value `begin` (first_bits) and of value
// `begin - 1` (prev_bits, unused when begin == 0) are already known, as a float chunk's block
// index holds them at every block start: the predictor restarts there, so the range costs no
// more than its own points wherever it lies. The values must be the column's own (an index
// entry that disagrees with the column gives a wrong decode, not an error).
bool DecodeDoubleColumnRangeFrom(ByteReader& in, size_t n, size_t begin, size_t end,
                                 uint64_t prev_bits, uint64_t first_bits, double* out);
// Moves past a double column without decoding it. False on malformed input.
bool SkipDoubleColumn(ByteReader& in, size_t n);
// Moves past an integer column without decoding it (reads that need no timestamps skip them).
// False on malformed input.
bool SkipIntColumn(ByteReader& in, size_t n);

}  // namespace nereid::series::internal
