// Turns the daemon's signals into ordinary function calls on a dedicated thread.
//
// SIGINT and SIGTERM mean "stop", SIGHUP means "reload the model". They are blocked in every
// thread and collected with sigwait() by one thread, so the handlers may do anything (lock,
// allocate, load a file): there is no async-signal-safety constraint because nothing runs
// inside a signal handler. Construct a SignalWatcher before starting any other thread, so
// that they all inherit the blocked mask; a thread created earlier could still receive the
// signal and die of it.
#pragma once

#include <signal.h>

#include <atomic>
#include <functional>
#include <thread>

namespace earshot::listen {

struct SignalHandlers {
  std::function<void()> on_stop;    // SIGINT, SIGTERM (each time one arrives)
  std::function<void()> on_reload;  // SIGHUP
};

class SignalWatcher {
 public:
  // Blocks the signals in the calling thread (and so in threads it starts later) and starts
  // the watching thread. Throws earshot::Error if the thread cannot start.
  explicit SignalWatcher(SignalHandlers handlers);
  // Stops the watching thread and restores the caller's signal mask. Signals that arrive
  // from then on get their default action again.
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  void watch();

  SignalHandlers handlers_;
  sigset_t watched_{};
  sigset_t previous_mask_{};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace earshot::listen
