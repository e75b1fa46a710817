// Evaluation reports: summary.json, the operating curve as CSV, a DET plot, a text table.
#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "earshot/error.hpp"
#include "earshot/eval.hpp"
#include "earshot/text_file.hpp"

namespace earshot {

namespace {

std::string fa_key(double fa_per_hour) {
  return fmt::format("{:g}", fa_per_hour);
}

nlohmann::json point_json(const OperatingPoint& point) {
  return {{"threshold", point.threshold},
          {"triggers", point.triggers},
          {"misses", point.misses},
          {"miss_rate", point.miss_rate()},
          {"false_accepts", point.false_accepts},
          {"negative_hours", point.negative_hours},
          {"fa_per_hour", point.fa_per_hour()}};
}

// Per group (base voice or noise recording, named by `key`): trigger words, misses at the
// default threshold and at the threshold that meets kHeadlineFaPerHour.
nlohmann::json misses_json(const std::string& key, const std::vector<GroupMisses>& at_default,
                           const std::vector<GroupMisses>& at_headline, float headline_threshold) {
  nlohmann::json groups = nlohmann::json::array();
  for (std::size_t i = 0; i < at_default.size(); ++i) {
    groups.push_back(
        {{key, at_default[i].name},
         {"triggers", at_default[i].triggers},
         {"misses_at_default_threshold", at_default[i].misses},
         {"misses_at_" + fa_key(kHeadlineFaPerHour) + "_fa_per_hour", at_headline[i].misses},
         {"threshold_at_" + fa_key(kHeadlineFaPerHour) + "_fa_per_hour", headline_threshold}});
  }
  return groups;
}

// The groups' names without the directories they all share ("sets/noise/cat.wav" and
// "sets/noise/tap.wav" become "cat.wav" and "tap.wav"): the table line stays readable, and
// summary.json keeps the whole names.
std::vector<std::string> short_names(const std::vector<GroupMisses>& groups) {
  std::string shared = groups.empty() ? "" : groups.front().name;
  for (const GroupMisses& group : groups) {
    const auto differ = std::ranges::mismatch(shared, group.name).in1;
    shared.erase(differ, shared.end());
  }
  const std::size_t cut = shared.rfind('/') == std::string::npos ? 0 : shared.rfind('/') + 1;
  std::vector<std::string> names;
  for (const GroupMisses& group : groups)
    names.push_back(group.name.empty() ? "(unknown)" : group.name.substr(cut));
  return names;
}

// "snr_10db misses per voice at 0.5 FA/h (threshold 0.9427):  a 3/140  b 0/140\n", or ""
// when there is only one group to tell apart.
std::string misses_line(const ConditionResult& result, const std::string& per,
                        const std::vector<GroupMisses>& groups) {
  if (groups.size() < 2) return "";
  std::string line = fmt::format("{} misses per {} at {:g} FA/h (threshold {:.4f}):", result.name,
                                 per, kHeadlineFaPerHour, result.threshold_at_headline_fa);
  const std::vector<std::string> names = short_names(groups);
  for (std::size_t i = 0; i < groups.size(); ++i)
    line += fmt::format("  {} {}/{}", names[i], groups[i].misses, groups[i].triggers);
  return line + "\n";
}

nlohmann::json latency_json(const DetectionLatency& latency) {
  return {{"hits", latency.hits}, {"median", latency.median_s}, {"p90", latency.p90_s}};
}

}  // namespace

nlohmann::json summary_json(const std::vector<ConditionResult>& results,
                            const nlohmann::json& context) {
  nlohmann::json conditions = nlohmann::json::array();
  for (const ConditionResult& result : results) {
    nlohmann::json miss_rates = nlohmann::json::object();
    for (const double fa : kReportedFaPerHour) {
      miss_rates[fa_key(fa)] = miss_rate_at_fa_per_hour(result.curve, fa);
    }
    nlohmann::json condition = {{"name", result.name},
                                {"streams", result.streams},
                                {"audio_hours", result.audio_hours},
                                {"miss_rate_at_fa_per_hour", miss_rates},
                                {"at_default_threshold", point_json(result.at_default_threshold)}};
    if (result.has_snr) condition["snr_db"] = result.snr_db;
    condition["by_voice"] =
        misses_json("voice", result.by_voice_at_default, result.by_voice_at_headline_fa,
                    result.threshold_at_headline_fa);
    condition["by_noise"] =
        misses_json("noise", result.by_noise_at_default, result.by_noise_at_headline_fa,
                    result.threshold_at_headline_fa);
    nlohmann::json by_word = nlohmann::json::array();
    for (const WordFalseAccepts& word : result.false_accepts_by_word_at_headline_fa) {
      by_word.push_back(
          {{"word", word.word.empty() ? "-" : word.word}, {"false_accepts", word.false_accepts}});
    }
    condition["false_accepts_at_" + fa_key(kHeadlineFaPerHour) + "_fa_per_hour"] = {
        {"threshold", result.threshold_at_headline_fa}, {"by_word", by_word}};
    condition["latency_after_word_end_s"] = {
        {"at_default_threshold", latency_json(result.latency_at_default)},
        {"at_" + fa_key(kHeadlineFaPerHour) + "_fa_per_hour",
         latency_json(result.latency_at_headline_fa)}};
    conditions.push_back(condition);
  }
  return {{"context", context}, {"conditions", conditions}};
}

std::string curve_csv(const ConditionResult& result) {
  std::string csv =
      "threshold,triggers,misses,miss_rate,false_accepts,negative_hours,fa_per_hour\n";
  for (const OperatingPoint& p : result.curve) {
    csv += fmt::format("{:.6f},{},{},{:.6f},{},{:.6f},{:.6f}\n", p.threshold, p.triggers, p.misses,
                       p.miss_rate(), p.false_accepts, p.negative_hours, p.fa_per_hour());
  }
  return csv;
}

std::string det_curve_svg(const std::vector<ConditionResult>& results) {
  // Plot area: FA/h on a log axis from 0.01 to 100, miss rate 0..100 % linear. Points with
  // no false accepts sit on the left edge.
  constexpr double kWidth = 720, kHeight = 480, kLeft = 70, kRight = 160, kTop = 40, kBottom = 60;
  constexpr double kMinFa = 0.01, kMaxFa = 100;
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  auto x_of = [&](double fa) {
    const double clamped = std::clamp(fa, kMinFa, kMaxFa);
    return kLeft + plot_w * (std::log10(clamped) - std::log10(kMinFa)) /
                       (std::log10(kMaxFa) - std::log10(kMinFa));
  };
  auto y_of = [&](double miss) { return kTop + plot_h * (1.0 - std::clamp(miss, 0.0, 1.0)); };
  const char* colours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};

  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<text x=\"{2}\" y=\"22\" font-size=\"15\">DET curve: miss rate against false accepts per "
      "hour</text>\n",
      kWidth, kHeight, kLeft);
  for (double fa = kMinFa; fa <= kMaxFa * 1.001; fa *= 10) {
    svg += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#ddd\"/>"
        "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\">{4:g}</text>\n",
        x_of(fa), kTop, kTop + plot_h, kTop + plot_h + 18, fa);
  }
  for (int percent = 0; percent <= 100; percent += 20) {
    svg += fmt::format(
        "<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" stroke=\"#ddd\"/>"
        "<text x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\">{5}%</text>\n",
        kLeft, y_of(percent / 100.0), kLeft + plot_w, kLeft - 6, y_of(percent / 100.0) + 4,
        percent);
  }
  svg += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"black\"/>\n"
      "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">false accepts per hour (log scale)</text>\n"
      "<text transform=\"translate(18,{}) rotate(-90)\" text-anchor=\"middle\">miss rate</text>\n",
      kLeft, kTop, plot_w, plot_h, kLeft + plot_w / 2, kHeight - 15, kTop + plot_h / 2);

  for (std::size_t c = 0; c < results.size(); ++c) {
    const char* colour = colours[c % std::size(colours)];
    std::string path;
    for (const OperatingPoint& p : results[c].curve) {
      path += fmt::format("{}{:.1f},{:.1f}", path.empty() ? "M" : " L", x_of(p.fa_per_hour()),
                          y_of(p.miss_rate()));
    }
    svg += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>\n", path,
                       colour);
    const double legend_y = kTop + 10 + 20 * static_cast<double>(c);
    svg += fmt::format(
        "<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"{3}\" stroke-width=\"3\"/>"
        "<text x=\"{4}\" y=\"{5}\">{6}</text>\n",
        kLeft + plot_w + 12, legend_y, kLeft + plot_w + 36, colour, kLeft + plot_w + 42,
        legend_y + 4, results[c].name);
  }
  svg += "</svg>\n";
  return svg;
}

std::vector<std::string> summary_table_header() {
  std::vector<std::string> header = {"condition", "triggers", "hours"};
  for (const double fa : kReportedFaPerHour)
    header.push_back(fmt::format("miss@{:g}/h", fa));
  header.push_back("default thr: miss, FA/h");
  return header;
}

std::vector<std::string> summary_cells(const ConditionResult& result) {
  const OperatingPoint& d = result.at_default_threshold;
  std::vector<std::string> cells = {result.name, fmt::format("{}", d.triggers),
                                    fmt::format("{:.2f}", result.audio_hours)};
  for (const double fa : kReportedFaPerHour)
    cells.push_back(fmt::format("{:.1f}%", 100 * miss_rate_at_fa_per_hour(result.curve, fa)));
  cells.push_back(
      fmt::format("{:.3f}: {:.1f}%, {:.2f}", d.threshold, 100 * d.miss_rate(), d.fa_per_hour()));
  return cells;
}

// A miss rate at X FA/h over H hours of negatives is read at the threshold that lets X * H
// false accepts through. Below this many it is decided by the loudest one or two, which
// another seed or another hour of negatives would replace.
constexpr double kFewFalseAccepts = 3.0;

std::string few_false_accepts_note(const ConditionResult& result) {
  const double hours = result.at_default_threshold.negative_hours;
  if (hours <= 0 || std::ranges::min(kReportedFaPerHour) * hours >= kFewFalseAccepts) return "";
  std::vector<std::string> targets, allowed;
  for (const double fa : kReportedFaPerHour) {
    targets.push_back(fmt::format("{:g}", fa));
    allowed.push_back(fmt::format("{:.1f}", fa * hours));
  }
  return fmt::format(
      "{}: {:.2f} h of negatives allow {} false accepts at {} FA/h: the miss rates there are set "
      "by the loudest few (--negative-hours measures on more)\n",
      result.name, hours, fmt::join(allowed, " / "), fmt::join(targets, " / "));
}

namespace {

// The words named on the console line; summary.json lists them all.
constexpr std::size_t kNamedFalseAcceptWords = 5;

std::string word_name(const std::string& word) {
  return word.empty() ? "(between words)" : std::filesystem::path(word).filename().string();
}

// "snr_10db false accepts at 0.5 FA/h (threshold 0.9633): 10 from 3 sounds:  company.wav 7
// eight.wav 2  (between words) 1\n", or "" when there are none.
std::string false_accept_words_line(const ConditionResult& result) {
  const std::vector<WordFalseAccepts>& words = result.false_accepts_by_word_at_headline_fa;
  if (words.empty()) return "";
  int total = 0;
  for (const WordFalseAccepts& word : words)
    total += word.false_accepts;
  std::string line =
      fmt::format("{} false accepts at {:g} FA/h (threshold {:.4f}): {} from {} {}:", result.name,
                  kHeadlineFaPerHour, result.threshold_at_headline_fa, total, words.size(),
                  words.size() == 1 ? "sound" : "sounds");
  for (std::size_t i = 0; i < std::min(words.size(), kNamedFalseAcceptWords); ++i)
    line += fmt::format("  {} {}", word_name(words[i].word), words[i].false_accepts);
  if (words.size() > kNamedFalseAcceptWords) line += "  ...";
  return line + "\n";
}

}  // namespace

std::string summary_table(const std::vector<ConditionResult>& results) {
  // The first column left-aligned, the figures right-aligned under their headings.
  const auto line = [](const std::vector<std::string>& cells) {
    std::string text = fmt::format("{:<14}", cells.front());
    for (std::size_t i = 1; i < cells.size(); ++i)
      text += i + 1 == cells.size() ? fmt::format("  {:>23}", cells[i])
                                    : fmt::format(" {:>11}", cells[i]);
    return text + "\n";
  };
  std::string table = line(summary_table_header());
  for (const ConditionResult& r : results)
    table += line(summary_cells(r));
  // With several voices or noises, which of them the misses come from.
  for (const ConditionResult& r : results)
    table += misses_line(r, "voice", r.by_voice_at_headline_fa);
  for (const ConditionResult& r : results)
    table += misses_line(r, "noise", r.by_noise_at_headline_fa);
  for (const ConditionResult& r : results) {
    table += fmt::format("{} detection latency after the word's end: {} (default threshold)\n",
                         r.name, latency_text(r.latency_at_default));
  }
  for (const ConditionResult& r : results)
    table += false_accept_words_line(r);
  for (const ConditionResult& r : results)
    table += few_false_accepts_note(r);
  return table;
}

std::string false_accepts_tsv(const std::vector<ConditionResult>& results) {
  std::string tsv = "condition\tstream\ttime_s\tpeak_probability\tfired_on\tnoise\n";
  for (const ConditionResult& result : results) {
    for (const FalseAccept& accept : result.false_accepts) {
      tsv +=
          fmt::format("{}\t{}\t{:.2f}\t{:.4f}\t{}\t{}\n", result.name, accept.stream, accept.time_s,
                      accept.peak_probability, accept.fired_on.empty() ? "-" : accept.fired_on,
                      accept.noise_source.empty() ? "-" : accept.noise_source);
    }
  }
  return tsv;
}

void write_eval_report(const std::filesystem::path& out_dir,
                       const std::vector<ConditionResult>& results, const nlohmann::json& context) {
  std::error_code error;
  std::filesystem::create_directories(out_dir, error);
  if (error) {
    throw Error(
        fmt::format("cannot create report directory '{}': {}", out_dir.string(), error.message()));
  }
  write_text_file(out_dir / "summary.json", summary_json(results, context).dump(2) + "\n");
  for (const ConditionResult& result : results) {
    write_text_file(out_dir / fmt::format("curve_{}.csv", result.name), curve_csv(result));
  }
  write_text_file(out_dir / "false_accepts.tsv", false_accepts_tsv(results));
  write_text_file(out_dir / "det_curve.svg", det_curve_svg(results));
}

}  // namespace earshot
