// Specification of word placement: the lecture's inclusive overlap test, and random
// placement that never overlaps and gives up after a bounded number of tries.
#include <catch2/catch.hpp>
#include <vector>

#include "earshot/synth.hpp"

namespace {

using earshot::place_segment;
using earshot::Segment;
using earshot::segments_overlap;
using earshot::SynthRng;

bool overlaps_previous(Segment candidate, const std::vector<Segment>& previous) {
  return earshot::overlaps_any(candidate, previous);
}

TEST_CASE("overlap: the lecture's first example does not overlap", "[placement]") {
  // is_overlapping((950, 1430), [(2000, 2550), (260, 949)]) == False
  CHECK_FALSE(overlaps_previous({950, 1430}, {{2000, 2550}, {260, 949}}));
}

TEST_CASE("overlap: the lecture's second example overlaps at a shared end point", "[placement]") {
  // is_overlapping((2305, 2950), [(824, 1532), (1900, 2305), (3424, 3656)]) == True
  CHECK(overlaps_previous({2305, 2950}, {{824, 1532}, {1900, 2305}, {3424, 3656}}));
}

TEST_CASE("overlap: a segment ending at 200 overlaps one starting at 200", "[placement]") {
  CHECK(segments_overlap({100, 200}, {200, 300}));
  CHECK(segments_overlap({200, 300}, {100, 200}));
}

TEST_CASE("overlap: (3000, 3600) overlaps (2950, 3050) but not (3601, 4000)", "[placement]") {
  CHECK(segments_overlap({3000, 3600}, {2950, 3050}));
  CHECK_FALSE(segments_overlap({3000, 3600}, {3601, 4000}));
}

TEST_CASE("overlap: a segment inside another overlaps it", "[placement]") {
  CHECK(segments_overlap({3100, 3200}, {3000, 3600}));
  CHECK(segments_overlap({3000, 3600}, {3100, 3200}));
}

TEST_CASE("placement never overlaps, over many seeds", "[placement]") {
  // 10 s in ms, words of 300..1500 ms as in the lecture, up to 6 per clip.
  for (std::uint64_t seed = 0; seed < 2000; ++seed) {
    SynthRng rng(seed);
    std::vector<Segment> taken;
    for (int word = 0; word < 6; ++word) {
      const auto length = static_cast<std::int64_t>(rng.integer(300, 1500));
      const auto placed = place_segment(length, 10000, taken, rng, 100);
      if (!placed) continue;
      REQUIRE(placed->end - placed->start == length);
      REQUIRE(placed->start >= 0);
      REQUIRE(placed->end <= 10000);
      for (const Segment& other : taken)
        REQUIRE_FALSE(segments_overlap(*placed, other));
      taken.push_back(*placed);
    }
  }
}

TEST_CASE("placement leaves a free guard after the segment", "[placement]") {
  for (std::uint64_t seed = 0; seed < 500; ++seed) {
    SynthRng rng(seed);
    const std::vector<Segment> taken{{5000, 5400}};
    const auto placed = place_segment(1000, 10000, taken, rng, 100, 360);
    REQUIRE(placed);
    REQUIRE_FALSE(segments_overlap({placed->start, placed->end + 360}, taken[0]));
  }
}

TEST_CASE("placement gives up when no free slot exists", "[placement]") {
  SynthRng rng(7);
  // The only free stretch is 100 units long; the item needs 500.
  const std::vector<Segment> taken{{0, 4900}, {5000, 10000}};
  CHECK_FALSE(place_segment(500, 10000, taken, rng, 100));
}

TEST_CASE("placement of an item longer than the axis fails at once", "[placement]") {
  SynthRng rng(7);
  CHECK_FALSE(place_segment(10001, 10000, {}, rng, 100));
}

TEST_CASE("placement can use the whole axis, start 0 to the very end", "[placement]") {
  SynthRng rng(3);
  const auto placed = place_segment(10000, 10000, {}, rng, 1);
  REQUIRE(placed);
  CHECK(placed->start == 0);
  CHECK(placed->end == 10000);
}

TEST_CASE("placement starts are spread over the whole allowed range", "[placement]") {
  SynthRng rng(11);
  std::int64_t earliest = 10000;
  std::int64_t latest = 0;
  for (int i = 0; i < 5000; ++i) {
    const auto placed = place_segment(1000, 10000, {}, rng, 1);
    REQUIRE(placed);
    earliest = std::min(earliest, placed->start);
    latest = std::max(latest, placed->start);
  }
  CHECK(earliest < 50);
  CHECK(latest > 8950);
}

}  // namespace
