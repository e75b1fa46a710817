// Non-overlapping placement of words on a clip's time axis (the lecture's inclusive test).
#include "earshot/synth.hpp"

namespace earshot {

bool segments_overlap(const Segment& a, const Segment& b) {
  return a.start <= b.end && a.end >= b.start;
}

bool overlaps_any(const Segment& candidate, std::span<const Segment> taken) {
  for (const Segment& segment : taken) {
    if (segments_overlap(candidate, segment)) return true;
  }
  return false;
}

std::optional<Segment> place_segment(std::int64_t length, std::int64_t axis_length,
                                     std::span<const Segment> taken, SynthRng& rng, int max_tries,
                                     std::int64_t guard_after) {
  if (length < 0 || length > axis_length) return std::nullopt;
  const auto start_choices = static_cast<std::size_t>(axis_length - length + 1);
  for (int attempt = 0; attempt < max_tries; ++attempt) {
    const auto start = static_cast<std::int64_t>(rng.index(start_choices));
    const Segment guarded{start, start + length + guard_after};
    if (!overlaps_any(guarded, taken)) return Segment{start, start + length};
  }
  return std::nullopt;
}

}  // namespace earshot
