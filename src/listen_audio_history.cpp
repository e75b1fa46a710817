#include "earshot/listen_audio_history.hpp"

#include <algorithm>

#include "earshot/error.hpp"

namespace earshot::listen {

AudioHistory::AudioHistory(std::size_t capacity_samples) : ring_(capacity_samples) {
  if (capacity_samples == 0) throw Error("audio history needs a capacity above 0 samples");
}

void AudioHistory::append(std::span<const float> samples) {
  const std::size_t capacity = ring_.size();
  if (samples.size() > capacity) {
    // Only the newest `capacity` samples can survive anyway.
    end_index_ += samples.size() - capacity;
    samples = samples.last(capacity);
  }
  std::size_t slot = static_cast<std::size_t>(end_index_ % capacity);
  const std::size_t before_wrap = std::min(samples.size(), capacity - slot);
  std::copy_n(samples.begin(), before_wrap, ring_.begin() + static_cast<std::ptrdiff_t>(slot));
  std::copy(samples.begin() + static_cast<std::ptrdiff_t>(before_wrap), samples.end(),
            ring_.begin());
  end_index_ += samples.size();
}

std::uint64_t AudioHistory::begin_index() const {
  return end_index_ > ring_.size() ? end_index_ - ring_.size() : 0;
}

std::vector<float> AudioHistory::copy(std::uint64_t begin, std::uint64_t end) const {
  begin = std::max(begin, begin_index());
  end = std::min(end, end_index_);
  std::vector<float> samples;
  if (begin >= end) return samples;
  samples.reserve(static_cast<std::size_t>(end - begin));
  for (std::uint64_t index = begin; index < end; ++index) {
    samples.push_back(ring_[static_cast<std::size_t>(index % ring_.size())]);
  }
  return samples;
}

}  // namespace earshot::listen
