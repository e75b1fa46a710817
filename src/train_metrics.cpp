// Validation metrics: misses and false alarms against where the trigger words were
// (train.hpp).
#include <algorithm>
#include <utility>

#include "earshot/train.hpp"

namespace earshot {

double DetectionMetrics::miss_rate() const {
  return trigger_words == 0 ? 0.0 : static_cast<double>(missed_words) / trigger_words;
}

double DetectionMetrics::false_alarms_per_hour() const {
  return audio_s <= 0 ? 0.0 : static_cast<double>(false_alarms) * 3600.0 / audio_s;
}

void DetectionMetrics::add(const DetectionMetrics& other) {
  trigger_words += other.trigger_words;
  missed_words += other.missed_words;
  false_alarms += other.false_alarms;
  audio_s += other.audio_s;
}

DetectionMetrics score_detections(std::span<const float> probabilities, double step_s,
                                  const std::vector<InsertedWord>& words, double duration_s,
                                  const DetectionRules& rules) {
  std::vector<std::pair<double, double>> windows;
  for (const InsertedWord& word : words) {
    if (word.kind != WordKind::kTrigger) continue;
    windows.emplace_back(word.end_s - rules.slack_s,
                         word.end_s + rules.label_window_s + rules.slack_s);
  }
  const auto inside = [](double t, const std::pair<double, double>& window) {
    return t >= window.first && t <= window.second;
  };
  const auto above = [&](std::size_t k) { return probabilities[k] >= rules.threshold; };

  DetectionMetrics metrics;
  metrics.trigger_words = windows.size();
  metrics.audio_s = duration_s;
  for (const auto& window : windows) {
    bool hit = false;
    for (std::size_t k = 0; k < probabilities.size() && !hit; ++k) {
      hit = above(k) && inside(static_cast<double>(k) * step_s, window);
    }
    if (!hit) ++metrics.missed_words;
  }
  for (std::size_t k = 0; k < probabilities.size(); ++k) {
    const bool rising = above(k) && (k == 0 || !above(k - 1));
    if (!rising) continue;
    const double t = static_cast<double>(k) * step_s;
    const bool expected = std::any_of(windows.begin(), windows.end(),
                                      [&](const auto& window) { return inside(t, window); });
    if (!expected) ++metrics.false_alarms;
  }
  return metrics;
}

}  // namespace earshot
