#include "earshot/listen_capture_buffer.hpp"

#include <fmt/format.h>

#include <bit>
#include <cmath>

#include "earshot/error.hpp"

namespace earshot::listen {

std::size_t ring_capacity_for(const CaptureFormat& format, double seconds) {
  if (!(format.sample_rate > 0) || format.channels < 1 || !(seconds > 0)) {
    throw Error(fmt::format("capture buffer: bad format {} Hz x {} channels for {} s",
                            format.sample_rate, format.channels, seconds));
  }
  const double samples = std::ceil(format.sample_rate * format.channels * seconds);
  return std::bit_ceil(static_cast<std::size_t>(samples));
}

CaptureBuffer::CaptureBuffer(std::size_t capacity_samples) : ring_(capacity_samples) {
  // Odd capacities would let a drop split a stereo frame (see the file comment).
  if (capacity_samples < 2) {
    throw Error(
        fmt::format("capture buffer needs room for at least 2 samples, got {}", capacity_samples));
  }
}

void CaptureBuffer::announce_format(const CaptureFormat& format) {
  if (format.channels != 1 && format.channels != 2) {
    throw Error(fmt::format("capture buffer carries 1 or 2 channels, not {}", format.channels));
  }
  std::lock_guard lock(format_mutex_);
  announced_format_ = format;
  ++announced_generation_;
  format_pending_.store(true, std::memory_order_release);
}

bool CaptureBuffer::wait_format_adopted(std::chrono::duration<double> timeout) {
  std::unique_lock lock(format_mutex_);
  return format_adopted_.wait_for(lock, timeout,
                                  [this] { return adopted_generation_ == announced_generation_; });
}

std::optional<CaptureFormat> CaptureBuffer::adopt_announced_format() {
  // The flag keeps the worker's idle loop off the mutex in the common case.
  if (!format_pending_.load(std::memory_order_acquire)) return std::nullopt;
  CaptureFormat format;
  {
    std::lock_guard lock(format_mutex_);
    format = announced_format_;
    adopted_generation_ = announced_generation_;
    format_pending_.store(false, std::memory_order_relaxed);
  }
  format_adopted_.notify_all();
  return format;
}

}  // namespace earshot::listen
