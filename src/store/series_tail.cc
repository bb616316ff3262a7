#include "store/series_tail.h"

#include <algorithm>
#include <cmath>
#include <span>

namespace nereid::store {
namespace {

template <typename P>
void UpdateSummary(SeriesState& s, const P& p) {
  if (s.count == 0 || p.step < s.first_step) s.first_step = p.step;
  if (s.count == 0 || p.step >= s.last_step) {  // ties: the later arrival is the last
    s.last_step = p.step;
    s.last_ts = p.timestamp_us;
    if constexpr (std::is_same_v<P, series::FloatPoint>) {
      s.last = p.value;
    } else {
      s.last_text = p.value;
    }
  }
  if constexpr (std::is_same_v<P, series::FloatPoint>) {
    if (!std::isnan(p.value)) {
      s.min = s.min ? std::min(*s.min, p.value) : p.value;
      s.max = s.max ? std::max(*s.max, p.value) : p.value;
    }
  }
  s.count++;
  s.dirty = true;
}

series::ChunkSummary SummarizeStrings(std::span<const series::StringPoint> points) {
  series::ChunkSummary s;
  s.count = static_cast<uint32_t>(points.size());
  if (points.empty()) return s;
  s.step_min = points.front().step;  // points are sorted by step
  s.step_max = points.back().step;
  s.timestamp_min = s.timestamp_max = points.front().timestamp_us;
  for (const auto& p : points) {
    s.timestamp_min = std::min(s.timestamp_min, p.timestamp_us);
    s.timestamp_max = std::max(s.timestamp_max, p.timestamp_us);
  }
  return s;
}

}  // namespace

void SeriesState::Append(const series::FloatPoint& p) {
  UpdateSummary(*this, p);
  floats.push_back(p);
}

void SeriesState::Append(series::StringPoint p) {
  UpdateSummary(*this, p);
  strings.push_back(std::move(p));
}

EncodedTail EncodeTail(SeriesState& s) {
  return EncodeTailFrom(s, 0);
}

EncodedTail EncodeTailFrom(SeriesState& s, size_t from) {
  EncodedTail out;
  out.is_float = s.type == FieldType::kFloatSeries;
  if (out.is_float) {
    std::span<series::FloatPoint> pts = std::span(s.floats).subspan(from);
    series::SortByStep(pts);
    out.summary = series::Summarize(pts);
    out.data = series::EncodeFloatChunk(pts);
  } else {
    std::span<series::StringPoint> pts = std::span(s.strings).subspan(from);
    series::SortByStep(pts);
    out.summary = SummarizeStrings(pts);
    out.data = series::EncodeStringChunk(pts);
  }
  return out;
}

int64_t TailStored(SeriesState& s, int64_t stored_bytes) {
  int64_t delta = stored_bytes - s.tail_bytes;
  s.tail_bytes = stored_bytes;
  if (s.TailPoints() >= series::kTargetChunkPoints) {  // seal; the next point opens a new chunk
    s.floats.clear();
    s.strings.clear();
    s.tail_chunk_id = 0;
    s.tail_bytes = 0;
    s.base_points = 0;
    s.tail_seq++;
  }
  return delta;
}

SeriesState* SeriesCache::Find(int64_t series_id) {
  auto it = map_.find(series_id);
  if (it == map_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return it->second.state.get();
}

SeriesState* SeriesCache::Insert(std::unique_ptr<SeriesState> state) {
  int64_t id = state->id;
  Evict(id);
  lru_.push_front(id);
  SeriesState* raw = state.get();
  map_.emplace(id, Entry{std::move(state), lru_.begin()});
  return raw;
}

void SeriesCache::Evict(int64_t series_id) {
  auto it = map_.find(series_id);
  if (it == map_.end()) return;
  lru_.erase(it->second.lru);
  map_.erase(it);
}

void SeriesCache::Clear() {
  map_.clear();
  lru_.clear();
}

void SeriesCache::Trim() {
  size_t total = 0;
  for (const auto& [id, e] : map_) total += e.state->TailPoints() + 1;
  while (total > max_points_ && !lru_.empty()) {
    auto it = map_.find(lru_.back());
    total -= it->second.state->TailPoints() + 1;
    lru_.pop_back();
    map_.erase(it);
  }
}

}  // namespace nereid::store
