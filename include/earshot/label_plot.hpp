// A picture of one labelled file, for people: the waveform, the model's probability curve,
// the threshold and the detections on a shared time axis in seconds. Written as plain SVG
// (any browser shows it; `rsvg-convert` makes a PNG).
//
//   +------------------------------------------------------------+
//   | title                                            legend    |
//   | [waveform envelope: min/max per pixel column]              |
//   | [probability 0..1, threshold line, detection spans/marks]  |
//   |  0 s      2 s      4 s ...                     time (s)    |
//   +------------------------------------------------------------+
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "earshot/detector.hpp"

namespace earshot {

// Minimum and maximum sample over consecutive bins of `samples_per_bin` samples, gathered
// while a file streams past, so the plot of an hour-long file needs a few thousand values
// rather than the audio. The number of bins stays bounded whatever the length: when
// `max_bins` are full, neighbouring bins merge in pairs and the bin length doubles (a file
// whose header did not tell its length costs no more than one that did).
class WaveformEnvelope {
 public:
  // Throws earshot::Error if samples_per_bin or sample_rate is 0 or negative, or max_bins is
  // odd or below 2.
  WaveformEnvelope(std::size_t samples_per_bin, int sample_rate, std::size_t max_bins = 8192);
  // Bins sized so `duration_s` of audio fills about `bins` of them (at least 1 sample each).
  static WaveformEnvelope for_duration(double duration_s, int sample_rate, std::size_t bins = 4096);

  void add(std::span<const float> samples);

  std::size_t samples_per_bin() const { return samples_per_bin_; }
  int sample_rate() const { return sample_rate_; }
  // One value per bin; the last bin may hold fewer samples.
  const std::vector<float>& minima() const { return minima_; }
  const std::vector<float>& maxima() const { return maxima_; }
  double duration_s() const { return static_cast<double>(samples_) / sample_rate_; }

 private:
  void merge_bin_pairs();

  std::size_t samples_per_bin_;
  int sample_rate_;
  std::size_t max_bins_;
  std::size_t samples_ = 0;
  std::vector<float> minima_;
  std::vector<float> maxima_;
};

struct DetectionPlot {
  std::string title;
  const WaveformEnvelope* envelope = nullptr;  // required
  std::span<const StepProbability> steps;
  std::span<const Detection> detections;
  float threshold = 0.5f;
  bool show_smoothed = false;  // draw the smoothed curve too (when smoothing is on)
  int width_px = 1200;
  int height_px = 520;
};

// The SVG document. Throws earshot::Error if there is no envelope or the size is below
// 300 x 200 pixels.
std::string render_detection_plot_svg(const DetectionPlot& plot);

// "Nice" tick spacing (1, 2 or 5 times a power of ten) giving about `target_ticks` ticks
// over `span`.
double nice_tick_step(double span, int target_ticks);

}  // namespace earshot
