// Specification of the detection plot (include/earshot/label_plot.hpp): the envelope it
// draws from and what the SVG shows.
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "earshot/error.hpp"
#include "earshot/label_plot.hpp"

namespace {

using earshot::DetectionPlot;
using earshot::WaveformEnvelope;

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

TEST_CASE("the envelope keeps min and max per bin, whatever the pieces it is fed in") {
  WaveformEnvelope envelope(4, 16000);
  const std::vector<float> first = {0.1f, -0.5f, 0.3f};
  const std::vector<float> second = {0.0f, 0.9f, -0.2f};
  envelope.add(first);
  envelope.add(second);
  CHECK(envelope.minima() == std::vector<float>{-0.5f, -0.2f});
  CHECK(envelope.maxima() == std::vector<float>{0.3f, 0.9f});
  CHECK(envelope.duration_s() == Approx(6.0 / 16000));
}

TEST_CASE("an envelope for an hour holds a few thousand bins, not the audio") {
  const WaveformEnvelope envelope = WaveformEnvelope::for_duration(3600.0, 16000);
  CHECK(envelope.samples_per_bin() == 14063);  // ceil(57.6 M samples / 4096 bins)
  CHECK(WaveformEnvelope::for_duration(0.0, 16000).samples_per_bin() == 1);
}

TEST_CASE("an envelope longer than expected merges its bins in pairs instead of growing") {
  WaveformEnvelope envelope(1, 16000, 4);
  const std::vector<float> samples = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  envelope.add(samples);
  // 4 bins of 1 sample fill up at sample 5 and become 2 of 2; at sample 9 the 4 bins of 2
  // become 2 of 4.
  CHECK(envelope.samples_per_bin() == 4);
  CHECK(envelope.minima() == std::vector<float>{1, 5, 9});
  CHECK(envelope.maxima() == std::vector<float>{4, 8, 9});
}

TEST_CASE("a stream of unknown length keeps at most twice the bins asked for") {
  WaveformEnvelope envelope = WaveformEnvelope::for_duration(0.0, 16000, 16);
  const std::vector<float> second(16000, 0.5f);
  envelope.add(second);
  CHECK(envelope.minima().size() <= 32);
  CHECK(envelope.duration_s() == 1.0);
}

TEST_CASE("a bin needs at least one sample and the bin count must be even") {
  CHECK_THROWS_AS(WaveformEnvelope(0, 16000), earshot::Error);
  CHECK_THROWS_AS(WaveformEnvelope(1, 16000, 5), earshot::Error);
}

TEST_CASE("tick steps are 1, 2 or 5 times a power of ten") {
  CHECK(earshot::nice_tick_step(10.0, 10) == Approx(1.0));
  CHECK(earshot::nice_tick_step(3600.0, 10) == Approx(500.0));
  CHECK(earshot::nice_tick_step(2.5, 10) == Approx(0.5));
  CHECK(earshot::nice_tick_step(15.0, 10) == Approx(2.0));
}

TEST_CASE("the plot shows waveform, probability, threshold, detections and a time axis") {
  WaveformEnvelope envelope(160, 16000);
  const std::vector<float> audio(16000 * 4, 0.25f);
  envelope.add(audio);
  std::vector<earshot::StepProbability> steps;
  for (int j = 0; j < 100; ++j)
    steps.push_back({j * 0.04, j >= 50 && j < 60 ? 0.9f : 0.1f, 0.0f});
  const std::vector<earshot::Detection> detections = {{"activate", 2.1, 1.4, 2.0, 0.9f}};
  DetectionPlot plot;
  plot.title = "clip <1> & co";
  plot.envelope = &envelope;
  plot.steps = steps;
  plot.detections = detections;
  plot.threshold = 0.6f;
  const std::string svg = earshot::render_detection_plot_svg(plot);

  CHECK(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
  CHECK(svg.find("</svg>") != std::string::npos);
  CHECK(svg.find("clip &lt;1&gt; &amp; co") != std::string::npos);
  CHECK(svg.find("threshold 0.60") != std::string::npos);
  CHECK(svg.find("activate 0.90 @ 2.10 s") != std::string::npos);
  CHECK(svg.find("time (s)") != std::string::npos);
  CHECK(count(svg, "<polyline") == 1);  // no smoothed curve unless asked
  // Ticks every 0.5 s from 0 to 4 s.
  CHECK(svg.find(">0.0</text>") != std::string::npos);
  CHECK(svg.find(">3.5</text>") != std::string::npos);
  CHECK(svg.find(">4.0</text>") != std::string::npos);
}

TEST_CASE("the smoothed curve is drawn when smoothing is on") {
  WaveformEnvelope envelope(160, 16000);
  const std::vector<float> audio(16000, 0.0f);
  envelope.add(audio);
  const std::vector<earshot::StepProbability> steps = {{0.0, 0.1f, 0.1f}, {0.04, 0.2f, 0.15f}};
  DetectionPlot plot;
  plot.envelope = &envelope;
  plot.steps = steps;
  plot.show_smoothed = true;
  const std::string svg = earshot::render_detection_plot_svg(plot);
  CHECK(count(svg, "<polyline") == 2);
  CHECK(svg.find(">smoothed</text>") != std::string::npos);
}

TEST_CASE("a long file's curve keeps each pixel column's extremes, so no peak is lost") {
  WaveformEnvelope envelope = WaveformEnvelope::for_duration(3600.0, 16000);
  std::vector<earshot::StepProbability> steps;
  for (int j = 0; j < 90000; ++j)
    steps.push_back({j * 0.04, j == 45000 ? 0.99f : 0.01f, 0.0f});
  DetectionPlot plot;
  plot.envelope = &envelope;
  plot.steps = steps;
  const std::string svg = earshot::render_detection_plot_svg(plot);
  CHECK(svg.size() < 200000);
  // p = 0.99 sits 1% of the panel below its top, far above the 0.01 baseline.
  const double panel_top = 56 + (520 - 56 - 48 - 28) * 0.4 + 28;
  const double panel_height = (520 - 56 - 48 - 28) * 0.6;
  const std::string peak_y = fmt::format(",{:.1f} ", panel_top + 0.01 * panel_height);
  CHECK(svg.find(peak_y) != std::string::npos);
}

TEST_CASE("a plot needs an envelope and a sensible size") {
  DetectionPlot plot;
  CHECK_THROWS_AS(earshot::render_detection_plot_svg(plot), earshot::Error);
  WaveformEnvelope envelope(1, 16000);
  plot.envelope = &envelope;
  plot.width_px = 100;
  CHECK_THROWS_AS(earshot::render_detection_plot_svg(plot), earshot::Error);
}

}  // namespace
