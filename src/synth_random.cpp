// Seeds and random draws for synthesis, independent of the standard library's distributions.
#include <cmath>
#include <numbers>

#include "earshot/synth.hpp"

namespace earshot {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t clip_seed(std::uint64_t dataset_seed, std::size_t clip_index) {
  // Hashing the seed first keeps neighbouring dataset seeds from sharing clip seeds
  // (seed s, clip i+1 must not equal seed s+1, clip i).
  return splitmix64(splitmix64(dataset_seed) ^ static_cast<std::uint64_t>(clip_index));
}

double SynthRng::uniform(double low, double high) {
  if (!(high > low)) return low;
  return low + (high - low) * uniform();
}

int SynthRng::integer(int low, int high) {
  if (high <= low) return low;
  const auto span = static_cast<std::size_t>(static_cast<std::int64_t>(high) - low + 1);
  return static_cast<int>(low + static_cast<std::int64_t>(index(span)));
}

std::size_t SynthRng::index(std::size_t count) {
  // Multiply-shift: maps 64 random bits onto [0, count) without division bias worth noting.
  const unsigned __int128 product = static_cast<unsigned __int128>(engine_()) * count;
  return static_cast<std::size_t>(product >> 64);
}

double SynthRng::normal() {
  const double u1 = 1.0 - uniform();  // in (0, 1]: log stays finite
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

double SynthRng::log_uniform(double low, double high) {
  return std::exp(uniform(std::log(low), std::log(high)));
}

}  // namespace earshot
