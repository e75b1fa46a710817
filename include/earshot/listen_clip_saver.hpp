// `earshot listen --save-dir DIR`: keeps the audio around each detection as a WAV file.
//
// The worker appends every 16 kHz sample it feeds the detector (append) and hands over each
// detection (schedule). A clip spans [time - before_s, time + after_s] around the detection
// time; once the audio up to its end has arrived, the clip is copied out of the rolling
// history and queued for a writer thread, so a slow or full disk never stalls detection.
// A failed write (disk full, directory gone) is reported through on_error and the next clip
// is tried as usual. Files are named "<local time>_<keyword>.wav", e.g.
// "20240501-123456.789_activate.wav".
//
// append, schedule and finish belong to one thread (the worker); the callbacks run on the
// writer thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "earshot/audio_io.hpp"
#include "earshot/detector.hpp"
#include "earshot/listen_audio_history.hpp"

namespace earshot::listen {

struct ClipSaverConfig {
  std::filesystem::path directory;
  double before_s = 2.0;  // audio kept before the detection time
  double after_s = 0.5;   // and after it
  int sample_rate = kSampleRate;
  std::size_t max_queued_clips = 8;  // beyond this the writer is hopelessly behind: skip
};

struct SavedClip {
  std::string keyword;
  double time_s = 0;
  std::filesystem::path path;
  std::size_t samples = 0;
};

struct ClipSaverCallbacks {
  std::function<void(const SavedClip&)> on_saved;
  std::function<void(const std::string&)> on_error;
};

class DetectionClipSaver {
 public:
  // Creates the directory if needed; throws earshot::Error if it cannot, or if the config's
  // times or rate are not positive.
  DetectionClipSaver(ClipSaverConfig config, ClipSaverCallbacks callbacks);
  // finish()es if the owner did not.
  ~DetectionClipSaver();
  DetectionClipSaver(const DetectionClipSaver&) = delete;
  DetectionClipSaver& operator=(const DetectionClipSaver&) = delete;

  // The stream's audio, in order, in the same time base as the detections.
  void append(std::span<const float> samples);
  // Remembers a detection; its clip is queued once after_s seconds past its time have arrived.
  void schedule(const Detection& detection, std::chrono::system_clock::time_point wall_time);
  // End of stream: queues the clips still waiting with the audio there is, writes everything
  // queued and stops the writer thread.
  void finish();

 private:
  struct PendingClip {
    std::string keyword;
    double time_s = 0;
    std::uint64_t begin_index = 0;
    std::uint64_t end_index = 0;
    std::chrono::system_clock::time_point wall_time;
  };
  struct QueuedClip {
    SavedClip info;
    std::vector<float> samples;
  };

  void queue_ready_clips(bool end_of_stream);
  void enqueue(const PendingClip& pending);
  std::filesystem::path unique_path(const PendingClip& pending) const;
  void write_loop();

  ClipSaverConfig config_;
  ClipSaverCallbacks callbacks_;
  AudioHistory history_;
  std::vector<PendingClip> pending_;

  std::mutex queue_mutex_;
  std::condition_variable queue_changed_;
  std::deque<QueuedClip> queue_;
  bool finishing_ = false;
  std::thread writer_;
};

}  // namespace earshot::listen
