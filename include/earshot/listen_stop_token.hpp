// A shared "please stop" flag that the daemon's threads can also sleep on.
//
// The signal thread requests the stop; the device supervisor, the file replay and the
// backoff sleeps wait on it, so a SIGTERM during a 30 s retry pause ends the pause at once
// instead of after it. Not for the real-time callback (waiting locks a mutex).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace earshot::listen {

class StopToken {
 public:
  // Any thread, any number of times.
  void request();
  // Cheap enough to poll in a loop.
  bool requested() const noexcept { return requested_.load(std::memory_order_acquire); }
  // Sleeps for `duration` or until a stop is requested; returns requested().
  bool wait_for(std::chrono::duration<double> duration);

 private:
  std::atomic<bool> requested_{false};
  std::mutex mutex_;
  std::condition_variable woken_;
};

}  // namespace earshot::listen
