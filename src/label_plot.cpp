// Waveform envelope and the SVG detection plot (label_plot.hpp). Hand-written SVG: a few
// paths and text elements are all a plot needs, and no plotting library in Debian fits.
#include "earshot/label_plot.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>

#include "earshot/error.hpp"

namespace earshot {

// ---------------------------------------------------------------------------------------------
// WaveformEnvelope

WaveformEnvelope::WaveformEnvelope(std::size_t samples_per_bin, int sample_rate,
                                   std::size_t max_bins)
    : samples_per_bin_(samples_per_bin), sample_rate_(sample_rate), max_bins_(max_bins) {
  if (samples_per_bin == 0 || sample_rate <= 0 || max_bins < 2 || max_bins % 2 != 0) {
    throw Error(
        fmt::format("waveform envelope needs bins of at least one sample, a positive "
                    "rate and an even number of bins >= 2, got {} samples per bin at {} "
                    "Hz and {} bins",
                    samples_per_bin, sample_rate, max_bins));
  }
  minima_.reserve(max_bins);
  maxima_.reserve(max_bins);
}

WaveformEnvelope WaveformEnvelope::for_duration(double duration_s, int sample_rate,
                                                std::size_t bins) {
  const double samples = std::max(0.0, duration_s) * std::max(sample_rate, 1);
  const auto per_bin = static_cast<std::size_t>(
      std::ceil(samples / static_cast<double>(std::max<std::size_t>(bins, 1))));
  return WaveformEnvelope(std::max<std::size_t>(per_bin, 1), sample_rate,
                          2 * std::max<std::size_t>(bins, 1));
}

void WaveformEnvelope::merge_bin_pairs() {
  const std::size_t merged = minima_.size() / 2;
  for (std::size_t b = 0; b < merged; ++b) {
    minima_[b] = std::min(minima_[2 * b], minima_[2 * b + 1]);
    maxima_[b] = std::max(maxima_[2 * b], maxima_[2 * b + 1]);
  }
  minima_.resize(merged);
  maxima_.resize(merged);
  samples_per_bin_ *= 2;
}

void WaveformEnvelope::add(std::span<const float> samples) {
  for (const float sample : samples) {
    if (samples_ % samples_per_bin_ == 0) {
      // All bins are full exactly here, so after merging pairs (an even count) the next
      // sample still starts a bin.
      if (minima_.size() == max_bins_) merge_bin_pairs();
      minima_.push_back(sample);
      maxima_.push_back(sample);
    } else {
      minima_.back() = std::min(minima_.back(), sample);
      maxima_.back() = std::max(maxima_.back(), sample);
    }
    ++samples_;
  }
}

// ---------------------------------------------------------------------------------------------
// Plot

double nice_tick_step(double span, int target_ticks) {
  if (!(span > 0.0) || target_ticks < 1) return 1.0;
  const double rough = span / target_ticks;
  const double decade = std::pow(10.0, std::floor(std::log10(rough)));
  for (const double multiple : {1.0, 2.0, 5.0}) {
    if (multiple * decade >= rough) return multiple * decade;
  }
  return 10.0 * decade;
}

namespace {

constexpr double kLeftPx = 70, kRightPx = 24, kTopPx = 56, kBottomPx = 48, kPanelGapPx = 28;
// The raw curve steps back to a lighter blue when the smoothed one is drawn over it.
constexpr const char* kRawColour = "#1f77b4";
constexpr const char* kRawLightColour = "#9ecae1";
constexpr const char* kFont = "font-family=\"DejaVu Sans, Arial, sans-serif\"";

std::string xml_escape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Pixel geometry shared by every element: the time axis and the two panels.
struct Layout {
  double width = 0, height = 0;
  double plot_left = kLeftPx, plot_width = 0;
  double wave_top = 0, wave_height = 0;
  double prob_top = 0, prob_height = 0;
  double duration_s = 1;

  double x(double time_s) const { return plot_left + time_s / duration_s * plot_width; }
  double prob_y(double probability) const {
    return prob_top + (1.0 - std::clamp(probability, 0.0, 1.0)) * prob_height;
  }
  double plot_bottom() const { return prob_top + prob_height; }
};

Layout make_layout(const DetectionPlot& plot) {
  Layout layout;
  layout.width = plot.width_px;
  layout.height = plot.height_px;
  layout.plot_width = layout.width - kLeftPx - kRightPx;
  const double panels = layout.height - kTopPx - kBottomPx - kPanelGapPx;
  layout.wave_top = kTopPx;
  layout.wave_height = panels * 0.4;
  layout.prob_top = layout.wave_top + layout.wave_height + kPanelGapPx;
  layout.prob_height = panels - layout.wave_height;
  double duration_s = plot.envelope->duration_s();
  if (!plot.steps.empty()) duration_s = std::max(duration_s, plot.steps.back().time_s);
  layout.duration_s = std::max(duration_s, 1e-3);
  return layout;
}

std::string header(const DetectionPlot& plot, const Layout& layout) {
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      plot.width_px, plot.height_px);
  out += fmt::format("<text x=\"{}\" y=\"22\" {} font-size=\"15\" fill=\"#222\">{}</text>\n",
                     kLeftPx, kFont, xml_escape(plot.title));
  const double wave_mid = layout.wave_top + layout.wave_height / 2;
  out += fmt::format(
      "<text x=\"18\" y=\"{:.1f}\" {} font-size=\"12\" fill=\"#444\" text-anchor=\"middle\" "
      "transform=\"rotate(-90 18 {:.1f})\">waveform</text>\n",
      wave_mid, kFont, wave_mid);
  const double prob_mid = layout.prob_top + layout.prob_height / 2;
  out += fmt::format(
      "<text x=\"18\" y=\"{:.1f}\" {} font-size=\"12\" fill=\"#444\" text-anchor=\"middle\" "
      "transform=\"rotate(-90 18 {:.1f})\">probability</text>\n",
      prob_mid, kFont, prob_mid);
  return out;
}

std::string panel_frames(const Layout& layout) {
  std::string out;
  for (const auto& [top, height] : {std::pair{layout.wave_top, layout.wave_height},
                                    std::pair{layout.prob_top, layout.prob_height}}) {
    out += fmt::format(
        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"none\" "
        "stroke=\"#999\"/>\n",
        layout.plot_left, top, layout.plot_width, height);
  }
  return out;
}

std::string time_axis(const Layout& layout) {
  std::string out;
  const double step = nice_tick_step(layout.duration_s, 10);
  const int decimals = step >= 1.0 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
  const double bottom = layout.plot_bottom();
  for (int i = 0; i * step <= layout.duration_s * (1 + 1e-9); ++i) {
    const double x = layout.x(i * step);
    out += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#eee\"/>\n"
        "<line x1=\"{0:.1f}\" y1=\"{2:.1f}\" x2=\"{0:.1f}\" y2=\"{3:.1f}\" stroke=\"#666\"/>\n"
        "<text x=\"{0:.1f}\" y=\"{4:.1f}\" {5} font-size=\"11\" fill=\"#444\" "
        "text-anchor=\"middle\">{6:.{7}f}</text>\n",
        x, layout.wave_top, bottom, bottom + 5, bottom + 18, kFont, i * step, decimals);
  }
  out += fmt::format(
      "<text x=\"{:.1f}\" y=\"{:.1f}\" {} font-size=\"12\" fill=\"#444\" "
      "text-anchor=\"middle\">time (s)</text>\n",
      layout.plot_left + layout.plot_width / 2, bottom + 38, kFont);
  return out;
}

std::string probability_grid(const Layout& layout) {
  std::string out;
  for (const double p : {0.0, 0.25, 0.5, 0.75, 1.0}) {
    const double y = layout.prob_y(p);
    out += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#eee\"/>\n"
        "<text x=\"{3:.1f}\" y=\"{4:.1f}\" {5} font-size=\"11\" fill=\"#444\" "
        "text-anchor=\"end\">{6:.2f}</text>\n",
        layout.plot_left, y, layout.plot_left + layout.plot_width, layout.plot_left - 6, y + 4,
        kFont, p);
  }
  return out;
}

// One vertical stroke per pixel column from the lowest to the highest sample under it,
// scaled to the file's peak so quiet recordings are still visible.
std::string waveform(const WaveformEnvelope& envelope, const Layout& layout) {
  const std::vector<float>& minima = envelope.minima();
  const std::vector<float>& maxima = envelope.maxima();
  if (minima.empty()) return {};
  float peak = 1e-4f;
  for (std::size_t b = 0; b < minima.size(); ++b) {
    peak = std::max({peak, std::abs(minima[b]), std::abs(maxima[b])});
  }
  const double mid = layout.wave_top + layout.wave_height / 2;
  const double scale = (layout.wave_height / 2 - 2) / peak;
  const double bin_s = static_cast<double>(envelope.samples_per_bin()) / envelope.sample_rate();
  const auto columns = static_cast<int>(layout.plot_width);
  std::string path;
  for (int c = 0; c < columns; ++c) {
    const double t0 = c * layout.duration_s / columns;
    const double t1 = (c + 1) * layout.duration_s / columns;
    const auto first = static_cast<std::size_t>(t0 / bin_s);
    if (first >= minima.size()) break;
    const auto end =
        std::clamp(static_cast<std::size_t>(std::ceil(t1 / bin_s)), first + 1, minima.size());
    const float low = *std::min_element(minima.begin() + static_cast<std::ptrdiff_t>(first),
                                        minima.begin() + static_cast<std::ptrdiff_t>(end));
    const float high = *std::max_element(maxima.begin() + static_cast<std::ptrdiff_t>(first),
                                         maxima.begin() + static_cast<std::ptrdiff_t>(end));
    // At least a pixel tall, so silence still draws a visible line.
    const double y_high = std::min(mid - high * scale, mid - 0.5);
    const double y_low = std::max(mid - low * scale, mid + 0.5);
    fmt::format_to(std::back_inserter(path), "M{:.1f} {:.1f}V{:.1f}", layout.plot_left + c + 0.5,
                   y_high, y_low);
  }
  std::string out = fmt::format("<path d=\"{}\" stroke=\"#4a6f8a\" stroke-width=\"1\"/>\n", path);
  out += fmt::format(
      "<text x=\"{:.1f}\" y=\"{:.1f}\" {} font-size=\"11\" fill=\"#444\" "
      "text-anchor=\"end\">\u00b1{:.2g}</text>\n",
      layout.plot_left - 6, layout.wave_top + 12, kFont, peak);
  return out;
}

// The curve through every step, or, with more steps than pixels, each column's lowest and
// highest value in time order, so no peak is lost.
std::string probability_curve(std::span<const StepProbability> steps, bool smoothed,
                              const Layout& layout, const char* colour, double stroke_width) {
  if (steps.empty()) return {};
  auto value = [smoothed](const StepProbability& s) {
    return static_cast<double>(smoothed ? s.smoothed : s.probability);
  };
  std::string points;
  auto add_point = [&](const StepProbability& s) {
    fmt::format_to(std::back_inserter(points), "{:.1f},{:.1f} ", layout.x(s.time_s),
                   layout.prob_y(value(s)));
  };
  const auto columns = static_cast<std::size_t>(layout.plot_width);
  if (steps.size() <= 2 * columns) {
    for (const StepProbability& s : steps)
      add_point(s);
  } else {
    std::size_t begin = 0;
    for (std::size_t c = 0; c < columns && begin < steps.size(); ++c) {
      const double column_end_s = (c + 1) * layout.duration_s / columns;
      std::size_t end = begin;
      while (end < steps.size() && steps[end].time_s < column_end_s)
        ++end;
      if (end == begin) continue;
      const auto range = steps.subspan(begin, end - begin);
      const auto [low, high] = std::minmax_element(
          range.begin(), range.end(),
          [&](const StepProbability& a, const StepProbability& b) { return value(a) < value(b); });
      add_point(low < high ? *low : *high);
      add_point(low < high ? *high : *low);
      begin = end;
    }
  }
  return fmt::format(
      "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\" "
      "stroke-linejoin=\"round\"/>\n",
      points, colour, stroke_width);
}

std::string threshold_line(float threshold, const Layout& layout) {
  const double y = layout.prob_y(threshold);
  return fmt::format(
      "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#d62728\" "
      "stroke-width=\"1.2\" stroke-dasharray=\"6 4\"/>\n"
      "<text x=\"{3:.1f}\" y=\"{4:.1f}\" {5} font-size=\"11\" fill=\"#d62728\" "
      "text-anchor=\"end\">threshold {6:.2f}</text>\n",
      layout.plot_left, y, layout.plot_left + layout.plot_width,
      layout.plot_left + layout.plot_width - 4, y - 4, kFont, threshold);
}

// Each word's estimated span shaded across both panels, a line where the detector fired,
// and a label above the waveform (skipped where it would overlap the previous one).
std::string detection_marks(std::span<const Detection> detections, const Layout& layout) {
  std::string out;
  double label_free_from_px = 0;
  for (const Detection& d : detections) {
    const double x0 = layout.x(d.start_s);
    const double width = std::max(layout.x(d.end_s) - x0, 1.0);
    out += fmt::format(
        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"#ff7f0e\" "
        "fill-opacity=\"0.18\"/>\n",
        x0, layout.wave_top, width, layout.plot_bottom() - layout.wave_top);
    const double fired_x = layout.x(d.time_s);
    out += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#e6550d\" "
        "stroke-width=\"1.5\"/>\n",
        fired_x, layout.wave_top - 4, layout.plot_bottom());
    const std::string label = fmt::format("{} {:.2f} @ {:.2f} s", d.keyword, d.score, d.time_s);
    const double label_width_px = 6.2 * static_cast<double>(label.size());
    if (x0 >= label_free_from_px) {
      const double x = std::min(x0, layout.plot_left + layout.plot_width - label_width_px);
      out += fmt::format(
          "<text x=\"{:.1f}\" y=\"{:.1f}\" {} font-size=\"11\" fill=\"#a63603\">{}</text>\n", x,
          layout.wave_top - 7, kFont, xml_escape(label));
      label_free_from_px = x + label_width_px + 8;
    }
  }
  return out;
}

std::string legend(const DetectionPlot& plot, const Layout& layout) {
  struct Entry {
    const char* colour;
    const char* text;
  };
  std::vector<Entry> entries = {{plot.show_smoothed ? kRawLightColour : kRawColour, "probability"}};
  if (plot.show_smoothed) entries.push_back({"#08306b", "smoothed"});
  entries.push_back({"#e6550d", "detection"});
  std::string out;
  double x = layout.plot_left + layout.plot_width - 110.0 * static_cast<double>(entries.size());
  for (const Entry& entry : entries) {
    out += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"18\" x2=\"{1:.1f}\" y2=\"18\" stroke=\"{2}\" "
        "stroke-width=\"3\"/>\n<text x=\"{3:.1f}\" y=\"22\" {4} font-size=\"12\" "
        "fill=\"#222\">{5}</text>\n",
        x, x + 18, entry.colour, x + 24, kFont, entry.text);
    x += 110;
  }
  return out;
}

}  // namespace

std::string render_detection_plot_svg(const DetectionPlot& plot) {
  if (plot.envelope == nullptr) throw Error("detection plot: no waveform envelope given");
  if (plot.width_px < 300 || plot.height_px < 200) {
    throw Error(fmt::format("detection plot: {} x {} pixels is too small, need 300 x 200",
                            plot.width_px, plot.height_px));
  }
  const Layout layout = make_layout(plot);
  std::string svg = header(plot, layout);
  svg += time_axis(layout);
  svg += probability_grid(layout);
  svg += detection_marks(plot.detections, layout);
  svg += waveform(*plot.envelope, layout);
  svg += threshold_line(plot.threshold, layout);
  svg += probability_curve(plot.steps, false, layout,
                           plot.show_smoothed ? kRawLightColour : kRawColour, 1.5);
  if (plot.show_smoothed) svg += probability_curve(plot.steps, true, layout, "#08306b", 1.5);
  svg += panel_frames(layout);
  svg += legend(plot, layout);
  svg += "</svg>\n";
  return svg;
}

}  // namespace earshot
