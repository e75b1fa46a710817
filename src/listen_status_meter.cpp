#include "earshot/listen_status_meter.hpp"

#include <time.h>

namespace earshot::listen {

double process_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

StatusMeter::StatusMeter()
    : interval_start_(std::chrono::steady_clock::now()),
      interval_start_cpu_s_(process_cpu_seconds()) {}

void StatusMeter::add_processing(double audio_s, double processing_s) {
  audio_s_ += audio_s;
  processing_s_ += processing_s;
}

MeterReading StatusMeter::take() {
  const auto now = std::chrono::steady_clock::now();
  const double cpu_s = process_cpu_seconds();
  const double wall_s = std::chrono::duration<double>(now - interval_start_).count();
  MeterReading reading;
  if (wall_s > 0) reading.cpu_percent = 100.0 * (cpu_s - interval_start_cpu_s_) / wall_s;
  if (audio_s_ > 0) reading.real_time_factor = processing_s_ / audio_s_;
  interval_start_ = now;
  interval_start_cpu_s_ = cpu_s;
  audio_s_ = 0;
  processing_s_ = 0;
  return reading;
}

}  // namespace earshot::listen
