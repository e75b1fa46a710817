// Synthesis settings: validation and their record in a dataset's provenance.
#include <fmt/core.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "earshot/audio_io.hpp"
#include "earshot/error.hpp"
#include "earshot/synth.hpp"

namespace earshot {

namespace {

constexpr double kMaxClipDurationS = 3600.0;

void require(bool condition, const std::string& message) {
  if (!condition) throw Error("synthesis settings: " + message);
}

void require_range(double low, double high, const char* name) {
  require(std::isfinite(low) && std::isfinite(high) && low <= high,
          fmt::format("{} range is empty: min {} > max {}", name, low, high));
}

void require_probability(double probability, const char* name) {
  require(probability >= 0 && probability <= 1,
          fmt::format("{} must be a probability in [0, 1], got {}", name, probability));
}

}  // namespace

void SynthConfig::validate() const {
  require(duration_s > 0 && duration_s <= kMaxClipDurationS,
          fmt::format("clip duration must be in (0, {}] s, got {}", kMaxClipDurationS, duration_s));
  require(max_triggers >= 0, fmt::format("max triggers must be >= 0, got {}", max_triggers));
  require(max_negatives >= 0, fmt::format("max negatives must be >= 0, got {}", max_negatives));
  require(max_placement_tries >= 1,
          fmt::format("placement tries must be >= 1, got {}", max_placement_tries));
  require(label_window_s >= 0 && label_window_s < duration_s,
          fmt::format("label window must be in [0, clip duration), got {} s", label_window_s));
  require_range(snr_db_min, snr_db_max, "SNR (dB)");
  require_range(level_dbfs_min, level_dbfs_max, "output level (dBFS)");
  require(level_dbfs_max <= 0,
          fmt::format("output level must be <= 0 dBFS, got max {}", level_dbfs_max));
  require_probability(clipping_prob, "clipping probability");
  require_range(speed_min, speed_max, "speed factor");
  require(speed_min > 0, fmt::format("speed factor must be > 0, got min {}", speed_min));
  require_probability(eq_prob, "EQ probability");
  require(eq_gain_db_max >= 0, fmt::format("EQ gain must be >= 0 dB, got {}", eq_gain_db_max));
  require_probability(reverb_prob, "reverb probability");
  require_range(rt60_s_min, rt60_s_max, "RT60 (s)");
  require(rt60_s_min > 0, fmt::format("RT60 must be > 0 s, got min {}", rt60_s_min));
  require_range(direct_to_reverb_db_min, direct_to_reverb_db_max, "direct-to-reverb ratio (dB)");
  require_probability(bandlimit_prob, "band-limit probability");
  require(background_mix_max >= 1,
          fmt::format("background mix must be >= 1 layer, got {}", background_mix_max));
  require_range(background_gain_db_min, background_gain_db_max, "background gain (dB)");
}

std::size_t SynthConfig::samples_per_clip() const {
  return static_cast<std::size_t>(std::llround(duration_s * kSampleRate));
}

void to_json(nlohmann::json& j, const SynthConfig& config) {
  j = nlohmann::json{
      {"duration_s", config.duration_s},
      {"max_triggers", config.max_triggers},
      {"max_negatives", config.max_negatives},
      {"max_placement_tries", config.max_placement_tries},
      {"label_window_s", config.label_window_s},
      {"snr_db", {config.snr_db_min, config.snr_db_max}},
      {"level_dbfs", {config.level_dbfs_min, config.level_dbfs_max}},
      {"clipping_prob", config.clipping_prob},
      {"speed", {config.speed_min, config.speed_max}},
      {"eq_prob", config.eq_prob},
      {"eq_gain_db_max", config.eq_gain_db_max},
      {"reverb_prob", config.reverb_prob},
      {"rt60_s", {config.rt60_s_min, config.rt60_s_max}},
      {"direct_to_reverb_db", {config.direct_to_reverb_db_min, config.direct_to_reverb_db_max}},
      {"bandlimit_prob", config.bandlimit_prob},
      {"background_mix_max", config.background_mix_max},
      {"background_gain_db", {config.background_gain_db_min, config.background_gain_db_max}},
  };
}

}  // namespace earshot
