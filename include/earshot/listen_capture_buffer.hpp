// The hand-off between an audio producer and the listen worker.
//
// The producer is the PortAudio callback (live capture) or the file replay thread (--input);
// both call deliver(), the whole real-time path: one copy into a lock-free ring buffer and two
// counter updates, with no allocation, lock, logging or waiting. When the worker falls behind
// and the ring is full, the newest samples are dropped and counted (overruns) rather than
// blocking the audio thread; the device's own "input overflow" flags are counted apart.
//
// Samples are interleaved at the producer's format (rate, channels). Channel count is 1 or 2
// and the capacity a power of two, so every write, drop and read is a whole number of
// frames and the channels never slip out of step.
//
// The format travels separately: the producer's owner announces a new format only while no
// producer runs, and the worker adopts it only once it has read every sample of the old one.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>

#include "earshot/ring_buffer.hpp"

namespace earshot::listen {

struct CaptureFormat {
  double sample_rate = 16000.0;  // samples per second per channel
  int channels = 1;              // 1 or 2, interleaved
  bool operator==(const CaptureFormat&) const = default;
};

// A power-of-two ring capacity holding at least `seconds` of audio in `format`.
std::size_t ring_capacity_for(const CaptureFormat& format, double seconds);

class CaptureBuffer {
 public:
  // Throws earshot::Error unless the capacity is a power of two.
  explicit CaptureBuffer(std::size_t capacity_samples);

  // Producer only; safe in a real-time callback. `interleaved` holds whole frames.
  void deliver(std::span<const float> interleaved, bool input_overflowed) noexcept {
    ring_.write(interleaved);
    if (input_overflowed) input_overflows_.fetch_add(1, std::memory_order_relaxed);
    deliveries_.fetch_add(1, std::memory_order_relaxed);
  }

  // Worker only: copies out up to destination.size() samples (ask for whole frames).
  std::size_t read(std::span<float> destination) noexcept { return ring_.read(destination); }

  // Free slots as the producer sees them (the --fast file replay waits on this).
  std::size_t available_to_write() const noexcept { return ring_.available_to_write(); }
  std::size_t available_to_read() const noexcept { return ring_.available_to_read(); }
  std::size_t capacity() const noexcept { return ring_.capacity(); }

  // Samples the ring could not take because the worker was behind (interleaved samples).
  std::uint64_t overrun_samples() const noexcept { return ring_.dropped(); }
  // Callbacks whose status flags said the device itself lost input (paInputOverflow).
  std::uint64_t input_overflows() const noexcept {
    return input_overflows_.load(std::memory_order_relaxed);
  }
  // Calls to deliver() so far: the supervisor's evidence that a device is still alive.
  std::uint64_t deliveries() const noexcept { return deliveries_.load(std::memory_order_relaxed); }

  // Owner of the producer, while no producer runs: the next samples will be in `format`.
  void announce_format(const CaptureFormat& format);
  // Owner of the producer: waits until the worker adopted the announced format (true) or
  // the timeout passed (false). Start the producer only after true.
  bool wait_format_adopted(std::chrono::duration<double> timeout);
  // Worker only, when read() has just returned 0: the announced format if it is newer than
  // the one the worker has, marking it adopted. Samples read after this are in that format.
  std::optional<CaptureFormat> adopt_announced_format();

 private:
  RingBuffer<float> ring_;
  std::atomic<std::uint64_t> input_overflows_{0};
  std::atomic<std::uint64_t> deliveries_{0};

  std::mutex format_mutex_;
  std::condition_variable format_adopted_;
  CaptureFormat announced_format_;
  std::uint64_t announced_generation_ = 0;
  std::uint64_t adopted_generation_ = 0;
  std::atomic<bool> format_pending_{false};
};

}  // namespace earshot::listen
