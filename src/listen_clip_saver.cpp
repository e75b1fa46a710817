#include "earshot/listen_clip_saver.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <system_error>

#include "earshot/error.hpp"
#include "earshot/listen_events.hpp"

namespace earshot::listen {
namespace {

// History long enough for a clip whose detection is reported a little late (the detector
// and resampler lag the newest audio by a fraction of a second).
constexpr double kHistorySlack_s = 2.0;

std::uint64_t index_at(double time_s, int sample_rate) {
  return time_s <= 0 ? 0 : static_cast<std::uint64_t>(std::llround(time_s * sample_rate));
}

// Keywords come from model files: keep them from steering the path anywhere.
std::string file_safe(const std::string& keyword) {
  std::string safe;
  for (const char c : keyword) {
    const bool keep = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    safe.push_back(keep ? c : '_');
  }
  return safe.empty() ? "keyword" : safe;
}

void validate(const ClipSaverConfig& config) {
  if (!(config.before_s >= 0) || !(config.after_s >= 0) || config.sample_rate <= 0 ||
      config.max_queued_clips == 0) {
    throw Error(fmt::format(
        "clip saver: need before_s >= 0, after_s >= 0, a positive rate and queue (got {}, {}, "
        "{}, {})",
        config.before_s, config.after_s, config.sample_rate, config.max_queued_clips));
  }
}

std::size_t history_capacity(const ClipSaverConfig& config) {
  validate(config);
  return static_cast<std::size_t>(
      std::ceil((config.before_s + config.after_s + kHistorySlack_s) * config.sample_rate));
}

}  // namespace

DetectionClipSaver::DetectionClipSaver(ClipSaverConfig config, ClipSaverCallbacks callbacks)
    : config_(std::move(config)),
      callbacks_(std::move(callbacks)),
      history_(history_capacity(config_)) {
  std::error_code error;
  std::filesystem::create_directories(config_.directory, error);
  if (error || !std::filesystem::is_directory(config_.directory)) {
    throw Error(fmt::format("--save-dir '{}' is not a directory that can be created: {}",
                            config_.directory.string(),
                            error ? error.message() : "a file of that name exists"));
  }
  writer_ = std::thread([this] { write_loop(); });
}

DetectionClipSaver::~DetectionClipSaver() {
  finish();
}

void DetectionClipSaver::append(std::span<const float> samples) {
  // In pieces no longer than the history's slack, so a clip is copied out as soon as its end
  // arrives, before a long append could overwrite its beginning.
  const auto piece = static_cast<std::size_t>(kHistorySlack_s * config_.sample_rate);
  while (!samples.empty()) {
    const std::size_t count = std::min(piece, samples.size());
    history_.append(samples.first(count));
    samples = samples.subspan(count);
    if (!pending_.empty()) queue_ready_clips(false);
  }
}

void DetectionClipSaver::schedule(const Detection& detection,
                                  std::chrono::system_clock::time_point wall_time) {
  pending_.push_back({detection.keyword, detection.time_s,
                      index_at(detection.time_s - config_.before_s, config_.sample_rate),
                      index_at(detection.time_s + config_.after_s, config_.sample_rate),
                      wall_time});
  queue_ready_clips(false);
}

void DetectionClipSaver::finish() {
  if (!writer_.joinable()) return;
  queue_ready_clips(true);
  {
    std::lock_guard lock(queue_mutex_);
    finishing_ = true;
  }
  queue_changed_.notify_all();
  writer_.join();
}

void DetectionClipSaver::queue_ready_clips(bool end_of_stream) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (end_of_stream || it->end_index <= history_.end_index()) {
      enqueue(*it);
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
}

void DetectionClipSaver::enqueue(const PendingClip& pending) {
  QueuedClip clip{{pending.keyword, pending.time_s, unique_path(pending), 0},
                  history_.copy(pending.begin_index, pending.end_index)};
  clip.info.samples = clip.samples.size();
  {
    std::lock_guard lock(queue_mutex_);
    if (queue_.size() < config_.max_queued_clips) {
      queue_.push_back(std::move(clip));
      queue_changed_.notify_one();
      return;
    }
  }
  if (callbacks_.on_error) {
    callbacks_.on_error(fmt::format("clip '{}' not saved: {} clips are still waiting to be written",
                                    clip.info.path.string(), config_.max_queued_clips));
  }
}

std::filesystem::path DetectionClipSaver::unique_path(const PendingClip& pending) const {
  const std::string stem = format_file_time(pending.wall_time) + "_" + file_safe(pending.keyword);
  std::filesystem::path path = config_.directory / (stem + ".wav");
  for (int suffix = 2; std::filesystem::exists(path); ++suffix) {
    path = config_.directory / fmt::format("{}_{}.wav", stem, suffix);
  }
  return path;
}

void DetectionClipSaver::write_loop() {
  for (;;) {
    QueuedClip clip;
    {
      std::unique_lock lock(queue_mutex_);
      queue_changed_.wait(lock, [this] { return finishing_ || !queue_.empty(); });
      if (queue_.empty()) return;  // finishing, and everything is written
      clip = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      write_audio(clip.info.path, clip.samples, config_.sample_rate);
      if (callbacks_.on_saved) callbacks_.on_saved(clip.info);
    } catch (const std::exception& e) {
      if (callbacks_.on_error) callbacks_.on_error(e.what());
    }
  }
}

}  // namespace earshot::listen
