// The figures of the daemon's status line that are rates over an interval: CPU use of the
// whole process (all threads, from the kernel's accounting) and the worker's real-time
// factor (seconds spent processing per second of audio processed).
#pragma once

#include <chrono>

namespace earshot::listen {

// CPU seconds used by this process so far, all threads (CLOCK_PROCESS_CPUTIME_ID).
double process_cpu_seconds();

struct MeterReading {
  double cpu_percent = 0;       // 100 = one core busy for the whole interval
  double real_time_factor = 0;  // 0.01 = processing runs 100x faster than real time
};

class StatusMeter {
 public:
  StatusMeter();
  // The worker spent `processing_s` seconds on `audio_s` seconds of audio.
  void add_processing(double audio_s, double processing_s);
  // Figures since the previous call (or construction); starts the next interval.
  MeterReading take();

 private:
  std::chrono::steady_clock::time_point interval_start_;
  double interval_start_cpu_s_ = 0;
  double audio_s_ = 0;
  double processing_s_ = 0;
};

}  // namespace earshot::listen
