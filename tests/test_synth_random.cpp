// Specification of synthesis randomness: per-clip seeds, and draws that stay in range.
#include <catch2/catch.hpp>
#include <set>

#include "earshot/synth.hpp"

namespace {

using earshot::clip_seed;
using earshot::SynthRng;

TEST_CASE("clip seeds differ between clips and between dataset seeds", "[random]") {
  std::set<std::uint64_t> seeds;
  for (std::uint64_t dataset_seed = 0; dataset_seed < 20; ++dataset_seed) {
    for (std::size_t index = 0; index < 500; ++index)
      seeds.insert(clip_seed(dataset_seed, index));
  }
  CHECK(seeds.size() == 20 * 500);
}

TEST_CASE("a clip seed depends only on the dataset seed and the clip index", "[random]") {
  CHECK(clip_seed(42, 7) == clip_seed(42, 7));
  CHECK(clip_seed(42, 7) != clip_seed(42, 8));
  CHECK(clip_seed(42, 7) != clip_seed(43, 7));
}

TEST_CASE("the same seed gives the same draws", "[random]") {
  SynthRng a(99);
  SynthRng b(99);
  for (int i = 0; i < 100; ++i) {
    REQUIRE(a.uniform() == b.uniform());
    REQUIRE(a.integer(0, 4) == b.integer(0, 4));
    REQUIRE(a.normal() == b.normal());
  }
}

TEST_CASE("uniform draws stay at or above low and below high", "[random]") {
  SynthRng rng(1);
  for (int i = 0; i < 10000; ++i) {
    const double x = rng.uniform(-3.0, 5.0);
    REQUIRE(x >= -3.0);
    REQUIRE(x < 5.0);
  }
}

TEST_CASE("integer draws reach both ends of [0, 4] and nothing else", "[random]") {
  SynthRng rng(2);
  std::set<int> seen;
  for (int i = 0; i < 1000; ++i)
    seen.insert(rng.integer(0, 4));
  CHECK(seen == std::set<int>{0, 1, 2, 3, 4});
}

TEST_CASE("an empty or reversed range returns its low end", "[random]") {
  SynthRng rng(3);
  CHECK(rng.uniform(1.0, 1.0) == 1.0);
  CHECK(rng.integer(2, 2) == 2);
  CHECK(rng.integer(5, 1) == 5);
}

TEST_CASE("normal draws have mean 0 and variance 1", "[random]") {
  SynthRng rng(4);
  double sum = 0;
  double sum_squares = 0;
  constexpr int kDraws = 100000;
  for (int i = 0; i < kDraws; ++i) {
    const double x = rng.normal();
    sum += x;
    sum_squares += x * x;
  }
  CHECK(sum / kDraws == Approx(0.0).margin(0.02));
  CHECK(sum_squares / kDraws == Approx(1.0).epsilon(0.02));
}

}  // namespace
