// The most recent audio of a stream, addressed by absolute sample index.
//
// The listen worker appends every 16 kHz sample it feeds the detector; a detection's clip
// (a few seconds around it) is copied out later by index. Storage is allocated once; append
// never allocates, so it can sit on the per-chunk path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace earshot::listen {

class AudioHistory {
 public:
  // Keeps the newest `capacity_samples` samples (> 0, else earshot::Error).
  explicit AudioHistory(std::size_t capacity_samples);

  void append(std::span<const float> samples);
  // Index one past the newest sample: the number of samples ever appended.
  std::uint64_t end_index() const { return end_index_; }
  // Index of the oldest sample still held.
  std::uint64_t begin_index() const;
  // The samples of [begin, end) that are still held (the range is clipped to
  // [begin_index(), end_index())); empty if none are.
  std::vector<float> copy(std::uint64_t begin, std::uint64_t end) const;

 private:
  std::vector<float> ring_;
  std::uint64_t end_index_ = 0;
};

}  // namespace earshot::listen
