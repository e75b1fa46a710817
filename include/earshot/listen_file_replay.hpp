// `earshot listen --input FILE`: a recording played as if it were a microphone.
//
// A producer thread reads the file (16 kHz mono, any format libsndfile reads) and hands it to
// the capture buffer in 10 ms chunks through CaptureBuffer::deliver(), the very call the
// PortAudio callback makes, so the worker cannot tell the difference. Two pacings:
//   - real time (default): chunk k is delivered when its last sample "has been recorded",
//     start + (k + 1) * 10 ms. Like a microphone, it never waits for the worker: if the
//     worker falls behind and the buffer fills, samples are dropped and counted as overruns.
//   - fast: as fast as the worker keeps up. A file can wait, so the producer waits for room
//     in the buffer instead of dropping anything.
#pragma once

#include <atomic>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

#include "earshot/audio_io.hpp"
#include "earshot/listen_capture_buffer.hpp"
#include "earshot/listen_stop_token.hpp"

namespace earshot::listen {

enum class ReplayPacing { kRealTime, kFast };

class FileReplay {
 public:
  static constexpr std::size_t kChunkSamples = kSampleRate / 100;  // 10 ms

  // Opens the file (throws earshot::Error if it cannot be read as audio); nothing is
  // delivered before start(). `on_error` is told about a read failure in the middle of the
  // file (e.g. truncated), after which the replay ends as if the file had.
  FileReplay(const std::filesystem::path& path, CaptureBuffer& capture, ReplayPacing pacing,
             std::function<void(const std::string&)> on_error = {});
  // Stops and joins the thread.
  ~FileReplay();
  FileReplay(const FileReplay&) = delete;
  FileReplay& operator=(const FileReplay&) = delete;

  // The format of what the replay delivers (announce it before start()).
  static CaptureFormat format() { return {static_cast<double>(kSampleRate), 1}; }
  void start();
  // Ends the replay early; returns once the thread has stopped delivering.
  void stop();
  // True once the whole file has been delivered (or a read failed, or stop()).
  bool finished() const { return finished_.load(std::memory_order_acquire); }
  // Waits until finished() or `stop_token` is requested.
  void wait(StopToken& stop_token) const;

 private:
  void play();
  void wait_for_room(std::size_t samples);

  AudioFileReader reader_;
  CaptureBuffer& capture_;
  ReplayPacing pacing_;
  std::function<void(const std::string&)> on_error_;
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> finished_{false};
  std::thread thread_;
};

}  // namespace earshot::listen
