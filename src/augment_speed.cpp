// Speed perturbation by resampling: the cheapest change of apparent speaker.
#include <fmt/core.h>

#include <cmath>

#include "earshot/audio_io.hpp"
#include "earshot/synth.hpp"

namespace earshot {

std::vector<float> change_speed(std::span<const float> samples, double speed_factor) {
  if (!(speed_factor > 0) || !std::isfinite(speed_factor)) {
    throw Error(fmt::format("change_speed: speed factor must be positive, got {}", speed_factor));
  }
  if (speed_factor == 1.0) return {samples.begin(), samples.end()};
  // Pretending the clip was recorded at rate * factor and converting it back to the rate
  // shortens it by the factor and raises every frequency by the factor.
  Resampler resampler(kSampleRate * speed_factor, kSampleRate);
  std::vector<float> output;
  output.reserve(static_cast<std::size_t>(static_cast<double>(samples.size()) / speed_factor) + 64);
  resampler.process(samples, output);
  resampler.flush(output);
  return output;
}

}  // namespace earshot
