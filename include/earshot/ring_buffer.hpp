// A lock-free single-producer, single-consumer ring buffer of samples.
//
// The real-time audio callback (the producer) copies samples in and returns; a worker thread
// (the consumer) copies them out. Neither side ever waits for the other: when the buffer is
// full the producer keeps what fits, drops the rest and counts them, so overruns are visible
// instead of silently blocking the audio thread.
//
// Exactly one thread may call write() and exactly one thread may call read(). The size
// queries and dropped() may be called from either of them. Every member except the
// constructor is noexcept, takes no lock, allocates nothing and logs nothing, so write() is
// safe inside a PortAudio callback.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <type_traits>

#include "earshot/error.hpp"

namespace earshot {

// Bytes per cache line, for keeping the producer's and the consumer's counters apart.
// std::hardware_destructive_interference_size would say the same on x86-64 and most ARM
// cores, but GCC warns (an error under -Werror) that its value can change with -mtune, which
// would silently change this class's layout between translation units.
inline constexpr std::size_t kCacheLineBytes = 64;

template <typename T>
class RingBuffer {
  static_assert(std::is_trivially_copyable_v<T>, "RingBuffer copies samples as raw memory");

 public:
  // Allocates room for `capacity` samples, now and never again. The capacity must be a
  // power of two so that a position maps to a slot with a mask instead of a division.
  explicit RingBuffer(std::size_t capacity)
      : storage_(allocate_checked(capacity)), capacity_(capacity), index_mask_(capacity - 1) {}

  RingBuffer(const RingBuffer&) = delete;
  RingBuffer& operator=(const RingBuffer&) = delete;

  // Producer only. Copies as much of `samples` as fits and returns how many were copied;
  // the rest (always the newest samples, at the end of the span) are added to dropped().
  std::size_t write(std::span<const T> samples) noexcept {
    const std::uint64_t written = producer_.written.load(std::memory_order_relaxed);
    std::size_t free_slots = capacity_ - static_cast<std::size_t>(written - producer_.read_seen);
    if (free_slots < samples.size()) {
      // Only refresh the consumer's counter when the stale copy says "no room": this keeps
      // the consumer's cache line out of the producer's way in the common case.
      producer_.read_seen = consumer_.read.load(std::memory_order_acquire);
      free_slots = capacity_ - static_cast<std::size_t>(written - producer_.read_seen);
    }
    const std::size_t count = std::min(samples.size(), free_slots);
    copy_in(samples.first(count), written);
    // Release: the consumer that sees the new count also sees the samples copied above.
    producer_.written.store(written + count, std::memory_order_release);
    if (count < samples.size()) {
      // Relaxed is enough: the count is a statistic that publishes no other data, and only
      // this thread writes it. A consumer that has acquired samples written after a drop
      // still sees that drop, because the release store above orders it before them.
      producer_.dropped.fetch_add(samples.size() - count, std::memory_order_relaxed);
    }
    return count;
  }

  // Consumer only. Copies up to `destination.size()` of the oldest samples into
  // `destination` and returns how many were copied (0 when the buffer is empty).
  std::size_t read(std::span<T> destination) noexcept {
    const std::uint64_t read = consumer_.read.load(std::memory_order_relaxed);
    std::size_t ready = static_cast<std::size_t>(consumer_.written_seen - read);
    if (ready < destination.size()) {
      consumer_.written_seen = producer_.written.load(std::memory_order_acquire);
      ready = static_cast<std::size_t>(consumer_.written_seen - read);
    }
    const std::size_t count = std::min(destination.size(), ready);
    copy_out(destination.first(count), read);
    // Release: the producer may reuse these slots only after the copy above has finished.
    consumer_.read.store(read + count, std::memory_order_release);
    return count;
  }

  // Samples waiting to be read. Exact on the consumer's thread (more may arrive at any
  // moment); on the producer's thread, an upper bound.
  std::size_t available_to_read() const noexcept {
    const std::uint64_t read = consumer_.read.load(std::memory_order_acquire);
    const std::uint64_t written = producer_.written.load(std::memory_order_acquire);
    return static_cast<std::size_t>(written - read);
  }

  // Free slots. Exact on the producer's thread (more may free up at any moment); on the
  // consumer's thread, an upper bound.
  std::size_t available_to_write() const noexcept {
    const std::uint64_t written = producer_.written.load(std::memory_order_acquire);
    const std::uint64_t read = consumer_.read.load(std::memory_order_acquire);
    return capacity_ - static_cast<std::size_t>(written - read);
  }

  std::size_t capacity() const noexcept { return capacity_; }

  // Total samples write() could not fit, since construction.
  std::uint64_t dropped() const noexcept {
    return producer_.dropped.load(std::memory_order_relaxed);
  }

 private:
  static std::unique_ptr<T[]> allocate_checked(std::size_t capacity) {
    if (!std::has_single_bit(capacity)) {
      throw Error("ring buffer capacity must be a power of two greater than zero, got " +
                  std::to_string(capacity));
    }
    return std::make_unique<T[]>(capacity);
  }

  // The counters run on forever (2^64 samples is 36 million years at 16 kHz); a position
  // becomes a slot by masking. The copy is split in two where it passes the end of storage.
  void copy_in(std::span<const T> samples, std::uint64_t position) noexcept {
    const std::size_t slot = static_cast<std::size_t>(position) & index_mask_;
    const std::size_t before_end = std::min(samples.size(), capacity_ - slot);
    std::copy_n(samples.data(), before_end, storage_.get() + slot);
    std::copy_n(samples.data() + before_end, samples.size() - before_end, storage_.get());
  }

  void copy_out(std::span<T> destination, std::uint64_t position) const noexcept {
    const std::size_t slot = static_cast<std::size_t>(position) & index_mask_;
    const std::size_t before_end = std::min(destination.size(), capacity_ - slot);
    std::copy_n(storage_.get() + slot, before_end, destination.data());
    std::copy_n(storage_.get(), destination.size() - before_end, destination.data() + before_end);
  }

  // What the producer writes, on its own cache line.
  struct alignas(kCacheLineBytes) ProducerSide {
    std::atomic<std::uint64_t> written{0};
    std::atomic<std::uint64_t> dropped{0};
    std::uint64_t read_seen = 0;  // the producer's last look at consumer_.read
  };
  // What the consumer writes, on another.
  struct alignas(kCacheLineBytes) ConsumerSide {
    std::atomic<std::uint64_t> read{0};
    std::uint64_t written_seen = 0;  // the consumer's last look at producer_.written
  };

  const std::unique_ptr<T[]> storage_;
  const std::size_t capacity_;
  const std::size_t index_mask_;
  ProducerSide producer_;
  ConsumerSide consumer_;
};

}  // namespace earshot
