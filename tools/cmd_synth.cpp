// `earshot synth`: synthesize labelled training clips from raw words and backgrounds.
#include <fmt/core.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "command.hpp"
#include "earshot/audio_io.hpp"
#include "earshot/synth.hpp"

namespace earshot::cli::synth_command {
namespace {

constexpr std::size_t kMaxSkippedListed = 20;

struct SynthOptions {
  std::vector<std::string> triggers;
  std::vector<std::string> negatives;
  std::vector<std::string> backgrounds;
  std::size_t count = 0;
  std::uint64_t seed = 1;
  std::string out;
  std::string shard = "0/1";
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  bool merge = false;
  bool quiet = false;
  SynthConfig config;
};

// A bar that redraws in place on a terminal, and a plain line every 10% (or 30 s) otherwise,
// so logs of batch jobs stay readable.
class ProgressReporter {
 public:
  explicit ProgressReporter(double clip_duration_s)
      : clip_duration_s_(clip_duration_s),
        on_terminal_(isatty(fileno(stderr)) != 0),
        start_(std::chrono::steady_clock::now()) {}

  void update(std::size_t done, std::size_t total) {
    const double elapsed_s = seconds_since(start_);
    if (on_terminal_) {
      draw_bar(done, total, elapsed_s);
    } else if (done * 10 / std::max<std::size_t>(total, 1) > last_decile_ ||
               elapsed_s - last_line_s_ >= 30.0 || done == total) {
      if (done == last_done_) return;
      last_decile_ = done * 10 / std::max<std::size_t>(total, 1);
      last_line_s_ = elapsed_s;
      fmt::print(stderr, "synth: {}/{} clips, {:.0f} s, {:.0f}x real time\n", done, total,
                 elapsed_s, speed(done, elapsed_s));
    }
    last_done_ = done;
  }

  void finish() {
    if (on_terminal_) fmt::print(stderr, "\n");
  }

 private:
  static double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  double speed(std::size_t done, double elapsed_s) const {
    return elapsed_s > 0 ? static_cast<double>(done) * clip_duration_s_ / elapsed_s : 0.0;
  }

  void draw_bar(std::size_t done, std::size_t total, double elapsed_s) const {
    constexpr std::size_t width = 40;
    const std::size_t filled = total > 0 ? done * width / total : width;
    const double eta_s =
        done > 0 ? elapsed_s * static_cast<double>(total - done) / static_cast<double>(done) : 0;
    fmt::print(stderr, "\r[{}{}] {}/{} clips  {:.0f}x real time  eta {:.0f} s ",
               std::string(filled, '#'), std::string(width - filled, '.'), done, total,
               speed(done, elapsed_s), eta_s);
  }

  double clip_duration_s_;
  bool on_terminal_;
  std::chrono::steady_clock::time_point start_;
  std::size_t last_decile_ = 0;
  std::size_t last_done_ = 0;
  double last_line_s_ = 0;
};

void add_range(CLI::App& command, const std::string& name, double& low, double& high,
               const std::string& what) {
  command.add_option("--" + name + "-min", low, "lowest " + what)->capture_default_str();
  command.add_option("--" + name + "-max", high, "highest " + what)->capture_default_str();
}

void add_flags(CLI::App& command, SynthOptions& options) {
  SynthConfig& config = options.config;
  command.add_option("--triggers", options.triggers,
                     "trigger clips: a file or a directory (recursive); repeatable; "
                     "PATH:WEIGHT weights a collection");
  command.add_option("--negatives", options.negatives,
                     "negative words and phrases (near misses, other speech); repeatable");
  command.add_option("--backgrounds", options.backgrounds,
                     "background noise recordings (excerpted, looped if short); repeatable");
  command.add_option("--count", options.count, "clips in the whole dataset (all shards)");
  command.add_option("--seed", options.seed, "dataset seed; clip i depends on (seed, i) only")
      ->capture_default_str();
  command.add_option("--out", options.out, "output directory (clips/, manifest.jsonl)");
  command.add_option("--shard", options.shard, "make clips i, i+N, ... of the dataset")
      ->capture_default_str();
  command.add_option("--threads", options.threads, "worker threads")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  command.add_flag("--merge", options.merge,
                   "merge OUT/manifest.shard-*-of-N.jsonl into OUT/manifest.jsonl and exit");
  command.add_flag("--quiet", options.quiet, "no progress output");

  command.add_option("--duration-s", config.duration_s, "clip length")->capture_default_str();
  command.add_option("--max-triggers", config.max_triggers, "triggers per clip: 0..max")
      ->capture_default_str();
  command.add_option("--max-negatives", config.max_negatives, "negative words per clip: 0..max")
      ->capture_default_str();
  command
      .add_option("--max-placement-tries", config.max_placement_tries,
                  "random positions tried per word before giving up")
      ->capture_default_str();
  command
      .add_option("--label-window-s", config.label_window_s,
                  "time after each trigger kept free of other words")
      ->capture_default_str();
  add_range(command, "snr-db", config.snr_db_min, config.snr_db_max,
            "word SNR over the background (dB, loudest 32 ms frame vs background RMS)");
  add_range(command, "level-dbfs", config.level_dbfs_min, config.level_dbfs_max,
            "final RMS level of a clip (dBFS)");
  command
      .add_option("--clipping-prob", config.clipping_prob,
                  "chance that a clip too loud for its level is clipped, not turned down")
      ->capture_default_str();
  add_range(command, "speed", config.speed_min, config.speed_max,
            "speed factor per word (pitch and tempo together)");
  command.add_option("--eq-prob", config.eq_prob, "chance of random peaking EQ per word")
      ->capture_default_str();
  command.add_option("--eq-gain-db-max", config.eq_gain_db_max, "largest EQ boost or cut (dB)")
      ->capture_default_str();
  command.add_option("--reverb-prob", config.reverb_prob, "chance of a synthetic room per word")
      ->capture_default_str();
  add_range(command, "rt60-s", config.rt60_s_min, config.rt60_s_max, "reverberation time (s)");
  add_range(command, "direct-to-reverb-db", config.direct_to_reverb_db_min,
            config.direct_to_reverb_db_max, "direct-to-reverberant energy ratio (dB)");
  command
      .add_option("--bandlimit-prob", config.bandlimit_prob,
                  "chance per clip of a telephone or low-pass channel")
      ->capture_default_str();
  command
      .add_option("--background-mix-max", config.background_mix_max,
                  "backgrounds layered per clip: 1..max")
      ->capture_default_str();
  add_range(command, "background-gain-db", config.background_gain_db_min,
            config.background_gain_db_max, "gain of extra background layers vs the first (dB)");
}

std::vector<SourceSpec> parse_specs(const std::vector<std::string>& arguments) {
  std::vector<SourceSpec> specs;
  for (const std::string& argument : arguments)
    specs.push_back(SourceSpec::parse(argument));
  return specs;
}

std::vector<SourceCollection> load_kind(const std::vector<std::string>& arguments,
                                        const SourceLimits& limits, int threads, const char* what,
                                        std::vector<SkippedSource>& skipped) {
  if (arguments.empty()) return {};
  LoadedSources loaded = load_sources(parse_specs(arguments), limits, threads);
  skipped.insert(skipped.end(), loaded.skipped.begin(), loaded.skipped.end());
  fmt::print(stderr, "synth: {} {} clips from {} source(s), {} skipped\n", loaded.clip_count(),
             what, loaded.collections.size(), loaded.skipped.size());
  return std::move(loaded.collections);
}

void report_skipped(const std::vector<SkippedSource>& skipped) {
  for (std::size_t i = 0; i < std::min(skipped.size(), kMaxSkippedListed); ++i) {
    fmt::print(stderr, "synth: skipped '{}': {}\n", skipped[i].path, skipped[i].reason);
  }
  if (skipped.size() > kMaxSkippedListed) {
    fmt::print(stderr, "synth: ... and {} more skipped files\n",
               skipped.size() - kMaxSkippedListed);
  }
}

std::string provenance(const SynthOptions& options) {
  const nlohmann::json record{
      {"seed", options.seed},           {"count", options.count},
      {"config", options.config},       {"triggers", options.triggers},
      {"negatives", options.negatives}, {"backgrounds", options.backgrounds}};
  return record.dump(2) + "\n";
}

int run_merge(const SynthOptions& options) {
  if (options.out.empty()) {
    fmt::print(stderr, "earshot synth: --merge needs --out DIR\n");
    return kUsage;
  }
  const std::size_t clips = merge_manifest_shards(options.out);
  fmt::print(stderr, "synth: merged {} clips into {}/manifest.jsonl\n", clips, options.out);
  return kSuccess;
}

int run_synth(const SynthOptions& options) {
  if (options.merge) return run_merge(options);
  if (options.triggers.empty() || options.backgrounds.empty() || options.out.empty() ||
      options.count == 0) {
    fmt::print(stderr,
               "earshot synth: needs --triggers, --backgrounds, --out and --count > 0 "
               "(see earshot synth --help)\n");
    return kUsage;
  }
  options.config.validate();
  const Shard shard = Shard::parse(options.shard);

  // A word as long as the clip cannot be placed: reject it once, at load, with a reason.
  const SourceLimits word_limits{options.config.duration_s, SourceLimits{}.silence_rms};
  const SourceLimits background_limits{0, SourceLimits{}.silence_rms};
  std::vector<SkippedSource> skipped;
  auto triggers = load_kind(options.triggers, word_limits, options.threads, "trigger", skipped);
  auto negatives = load_kind(options.negatives, word_limits, options.threads, "negative", skipped);
  auto backgrounds =
      load_kind(options.backgrounds, background_limits, options.threads, "background", skipped);
  report_skipped(skipped);
  const Synthesizer synthesizer(options.config, std::move(triggers), std::move(negatives),
                                std::move(backgrounds));

  ProgressReporter reporter(options.config.duration_s);
  DatasetRun run{options.out, options.count,      options.seed, shard, options.threads,
                 {},          provenance(options)};
  if (!options.quiet) {
    run.progress = [&](std::size_t done, std::size_t total) { reporter.update(done, total); };
  }
  const auto start = std::chrono::steady_clock::now();
  const DatasetSummary summary = synthesize_dataset(synthesizer, run);
  const double elapsed_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!options.quiet) reporter.finish();

  fmt::print(stderr,
             "synth: wrote {} clips ({:.0f} s of audio) in {:.1f} s, {:.0f}x real time; "
             "{} triggers, {} negatives, {} failed placements; manifest {}\n",
             summary.clips, summary.audio_s, elapsed_s,
             elapsed_s > 0 ? summary.audio_s / elapsed_s : 0.0, summary.triggers, summary.negatives,
             summary.failed_placements, summary.manifest.string());
  if (shard.count > 1) {
    fmt::print(stderr, "synth: when all {} shards are done: earshot synth --merge --out {}\n",
               shard.count, options.out);
  }
  return skipped.empty() ? kSuccess : kPartialFailure;
}

const CommandRegistration registration{
    "synth", "Synthesize labelled training clips (backgrounds + trigger and negative words)",
    [](CLI::App& command) -> std::function<int()> {
      auto options = std::make_shared<SynthOptions>();
      add_flags(command, *options);
      return [options] { return run_synth(*options); };
    }};

}  // namespace
}  // namespace earshot::cli::synth_command
