// The threshold sweep: from stored probabilities to miss rate and false accepts per hour.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <map>
#include <optional>

#include "earshot/eval.hpp"

namespace earshot {

DetectionTiming DetectionTiming::for_model(const Model& model, const DetectorConfig& post) {
  DetectionTiming timing;
  timing.output_step_s = model.output_step_s();
  timing.step_available_offset_s = model.receptive_field_s();
  timing.post = post;
  return timing;
}

std::vector<double> detection_times(const std::vector<float>& probabilities, float threshold,
                                    const DetectionTiming& timing) {
  DetectorConfig config = timing.post;
  config.threshold = threshold;
  EventPostProcessor post(config, timing.output_step_s);
  std::vector<double> times;
  for (const float probability : probabilities) {
    if (const auto fired = post.push(probability)) {
      times.push_back(static_cast<double>(fired->fire_step) * timing.output_step_s +
                      timing.step_available_offset_s);
    }
  }
  return times;
}

namespace {

bool in_hit_window(double time_s, const TriggerSpan& trigger) {
  return time_s >= trigger.start_s && time_s <= trigger.end_s + kHitToleranceAfter_s;
}

// The first detection in the trigger word's window, if any (detection times are in order).
std::optional<double> first_hit(const TriggerSpan& trigger,
                                const std::vector<double>& detection_times_s) {
  const auto hit =
      std::ranges::find_if(detection_times_s, [&](double t) { return in_hit_window(t, trigger); });
  if (hit == detection_times_s.end()) return std::nullopt;
  return *hit;
}

// A trigger word is hit when some detection falls in its window.
bool is_hit(const TriggerSpan& trigger, const std::vector<double>& detection_times_s) {
  return first_hit(trigger, detection_times_s).has_value();
}

// A detection is a false accept when it falls in no trigger word's window.
bool is_false_accept(double time_s, const std::vector<TriggerSpan>& triggers) {
  return std::none_of(triggers.begin(), triggers.end(),
                      [&](const TriggerSpan& trigger) { return in_hit_window(time_s, trigger); });
}

// Seconds of `stream` outside every trigger's hit window.
double negative_seconds(const ScoredStream& stream) {
  double covered_s = 0;
  for (const TriggerSpan& trigger : stream.triggers) {
    const double end_s = std::min(stream.duration_s, trigger.end_s + kHitToleranceAfter_s);
    covered_s += std::max(0.0, end_s - trigger.start_s);
  }
  return std::max(0.0, stream.duration_s - covered_s);
}

}  // namespace

OperatingPoint score_at_threshold(const std::vector<ScoredStream>& streams, float threshold,
                                  const DetectionTiming& timing) {
  OperatingPoint point;
  point.threshold = threshold;
  for (const ScoredStream& stream : streams) {
    const std::vector<double> times = detection_times(stream.probabilities, threshold, timing);
    for (const TriggerSpan& trigger : stream.triggers) {
      ++point.triggers;
      if (!is_hit(trigger, times)) ++point.misses;
    }
    for (const double t : times) {
      if (is_false_accept(t, stream.triggers)) ++point.false_accepts;
    }
    point.negative_hours += negative_seconds(stream) / 3600.0;
  }
  return point;
}

namespace {

// The highest probability of the run of steps above `threshold` that fired at `time_s`.
float peak_of_run(const std::vector<float>& probabilities, double time_s, float threshold,
                  const DetectionTiming& timing) {
  const double step = (time_s - timing.step_available_offset_s) / timing.output_step_s;
  auto index = static_cast<std::size_t>(std::max(0.0, std::round(step)));
  float peak = 0;
  for (; index < probabilities.size() && probabilities[index] >= threshold; ++index)
    peak = std::max(peak, probabilities[index]);
  return peak;
}

// The negative word whose [start, end + kHitToleranceAfter_s] holds `time_s`, if any.
const NegativeWord* word_fired_on(const ScoredStream& stream, double time_s) {
  for (const NegativeWord& word : stream.negatives) {
    if (time_s >= word.start_s && time_s <= word.end_s + kHitToleranceAfter_s) return &word;
  }
  return nullptr;
}

// The q-quantile of sorted `values`, linearly interpolated between ranks.
double quantile(const std::vector<double>& values, double q) {
  const double rank = q * static_cast<double>(values.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(rank));
  const std::size_t above = std::min(below + 1, values.size() - 1);
  return values[below] + (rank - std::floor(rank)) * (values[above] - values[below]);
}

}  // namespace

DetectionLatency detection_latency(const std::vector<ScoredStream>& streams, float threshold,
                                   const DetectionTiming& timing) {
  std::vector<double> latencies_s;
  for (const ScoredStream& stream : streams) {
    const std::vector<double> times = detection_times(stream.probabilities, threshold, timing);
    for (const TriggerSpan& trigger : stream.triggers) {
      if (const auto fired_s = first_hit(trigger, times)) {
        latencies_s.push_back(*fired_s - trigger.end_s);
      }
    }
  }
  DetectionLatency latency;
  latency.hits = latencies_s.size();
  if (latencies_s.empty()) return latency;
  std::ranges::sort(latencies_s);
  latency.median_s = quantile(latencies_s, 0.5);
  latency.p90_s = quantile(latencies_s, 0.9);
  return latency;
}

std::string latency_text(const DetectionLatency& latency) {
  if (latency.hits == 0) return "no word detected";
  return fmt::format("median {:.0f} ms, 90th percentile {:.0f} ms, over {} words",
                     1000 * latency.median_s, 1000 * latency.p90_s, latency.hits);
}

const std::string& noise_at(const ScoredStream& stream, double time_s) {
  static const std::string none;
  const auto after = std::ranges::upper_bound(stream.noise, time_s, {}, &NoiseSpan::start_s);
  return after == stream.noise.begin() ? none : std::prev(after)->source;
}

namespace {

// Misses at `threshold`, grouped by group_of(stream, trigger), in group-name order.
template <typename GroupOf>
std::vector<GroupMisses> misses_by(const std::vector<ScoredStream>& streams, float threshold,
                                   const DetectionTiming& timing, GroupOf group_of) {
  std::map<std::string, GroupMisses> groups;
  for (const ScoredStream& stream : streams) {
    const std::vector<double> times = detection_times(stream.probabilities, threshold, timing);
    for (const TriggerSpan& trigger : stream.triggers) {
      const std::string& name = group_of(stream, trigger);
      GroupMisses& group = groups[name];
      group.name = name;
      ++group.triggers;
      if (!is_hit(trigger, times)) ++group.misses;
    }
  }
  std::vector<GroupMisses> result;
  for (auto& [name, group] : groups)
    result.push_back(group);
  return result;
}

}  // namespace

std::vector<GroupMisses> misses_by_voice(const std::vector<ScoredStream>& streams, float threshold,
                                         const DetectionTiming& timing) {
  return misses_by(streams, threshold, timing,
                   [](const ScoredStream&, const TriggerSpan& trigger) -> const std::string& {
                     return trigger.voice;
                   });
}

std::vector<GroupMisses> misses_by_noise(const std::vector<ScoredStream>& streams, float threshold,
                                         const DetectionTiming& timing) {
  return misses_by(
      streams, threshold, timing,
      [](const ScoredStream& stream, const TriggerSpan& trigger) -> const std::string& {
        return noise_at(stream, trigger.start_s);
      });
}

std::vector<FalseAccept> false_accepts_at(const std::vector<ScoredStream>& streams, float threshold,
                                          const DetectionTiming& timing) {
  std::vector<FalseAccept> accepts;
  for (const ScoredStream& stream : streams) {
    for (const double t : detection_times(stream.probabilities, threshold, timing)) {
      if (!is_false_accept(t, stream.triggers)) continue;
      const NegativeWord* word = word_fired_on(stream, t);
      // The noise under the word it fired on: a new recording may take over as a word ends,
      // before the detection that the word caused.
      accepts.push_back({stream.name, t, peak_of_run(stream.probabilities, t, threshold, timing),
                         word ? word->source : "", noise_at(stream, word ? word->start_s : t)});
    }
  }
  std::stable_sort(accepts.begin(), accepts.end(), [](const FalseAccept& a, const FalseAccept& b) {
    return a.peak_probability > b.peak_probability;
  });
  return accepts;
}

std::vector<WordFalseAccepts> false_accepts_by_word(const std::vector<FalseAccept>& accepts) {
  std::map<std::string, int> counts;
  for (const FalseAccept& accept : accepts)
    ++counts[accept.fired_on];
  std::vector<WordFalseAccepts> words;
  for (const auto& [word, count] : counts)
    words.push_back({word, count});
  std::stable_sort(words.begin(), words.end(),
                   [](const auto& a, const auto& b) { return a.false_accepts > b.false_accepts; });
  return words;
}

std::vector<float> sweep_thresholds(int count) {
  // Evenly spaced log-odds put as many thresholds near 0.999 as near 0.5, where the
  // interesting part of a good model's curve lies.
  constexpr double kMaxLogOdds = 8.0;  // sigmoid(8) = 0.99966
  std::vector<float> thresholds;
  for (int i = 0; i < count; ++i) {
    const double log_odds = -kMaxLogOdds + 2 * kMaxLogOdds * i / std::max(1, count - 1);
    thresholds.push_back(static_cast<float>(1.0 / (1.0 + std::exp(-log_odds))));
  }
  return thresholds;
}

std::vector<OperatingPoint> operating_curve(const std::vector<ScoredStream>& streams,
                                            const DetectionTiming& timing,
                                            const std::vector<float>& thresholds) {
  std::vector<OperatingPoint> curve;
  curve.reserve(thresholds.size());
  for (const float threshold : thresholds) {
    curve.push_back(score_at_threshold(streams, threshold, timing));
  }
  return curve;
}

double miss_rate_at_fa_per_hour(const std::vector<OperatingPoint>& curve, double fa_per_hour) {
  // Points (FA/h, best miss rate reachable at or below that FA/h), starting from the
  // "never fire" end of every curve: no false accepts, everything missed.
  std::vector<std::pair<double, double>> points = {{0.0, 1.0}};
  for (const OperatingPoint& p : curve)
    points.emplace_back(p.fa_per_hour(), p.miss_rate());
  std::sort(points.begin(), points.end());
  for (std::size_t i = 1; i < points.size(); ++i) {
    points[i].second = std::min(points[i].second, points[i - 1].second);
  }
  for (std::size_t i = 1; i < points.size(); ++i) {
    const auto [fa_right, miss_right] = points[i];
    if (fa_right < fa_per_hour) continue;
    const auto [fa_left, miss_left] = points[i - 1];
    if (fa_right == fa_left) return miss_right;
    const double fraction = (fa_per_hour - fa_left) / (fa_right - fa_left);
    return miss_left + fraction * (miss_right - miss_left);
  }
  return points.back().second;
}

float threshold_for_fa_per_hour(const std::vector<OperatingPoint>& curve, double fa_per_hour) {
  for (const OperatingPoint& point : curve) {  // increasing threshold: most sensitive first
    if (point.fa_per_hour() <= fa_per_hour) return point.threshold;
  }
  return curve.empty() ? 0.5f : curve.back().threshold;
}

}  // namespace earshot
