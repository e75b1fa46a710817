#include "earshot/listen_signals.hpp"

#include <fmt/format.h>
#include <pthread.h>

#include <cstring>
#include <system_error>

#include "earshot/error.hpp"

namespace earshot::listen {
namespace {

// Sent by the destructor to wake the watching thread out of sigwait(). SIGUSR1 has no other
// meaning for the daemon; one that arrives from outside is ignored.
constexpr int kWakeSignal = SIGUSR1;

}  // namespace

SignalWatcher::SignalWatcher(SignalHandlers handlers) : handlers_(std::move(handlers)) {
  sigemptyset(&watched_);
  for (int signal_number : {SIGINT, SIGTERM, SIGHUP, kWakeSignal}) {
    sigaddset(&watched_, signal_number);
  }
  pthread_sigmask(SIG_BLOCK, &watched_, &previous_mask_);
  try {
    thread_ = std::thread([this] { watch(); });
  } catch (const std::system_error& e) {
    pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
    throw Error(fmt::format("cannot start the signal thread: {}", e.what()));
  }
}

SignalWatcher::~SignalWatcher() {
  stopping_.store(true, std::memory_order_release);
  pthread_kill(thread_.native_handle(), kWakeSignal);
  thread_.join();
  pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
}

void SignalWatcher::watch() {
  for (;;) {
    int received = 0;
    if (sigwait(&watched_, &received) != 0) continue;
    // The destructor's wake-up is the only way out; a stop request keeps the thread so that
    // a second SIGTERM during shutdown is still caught rather than killing the process.
    if (received == kWakeSignal) {
      if (stopping_.load(std::memory_order_acquire)) return;
      continue;
    }
    if (received == SIGHUP) {
      if (handlers_.on_reload) handlers_.on_reload();
    } else if (handlers_.on_stop) {
      handlers_.on_stop();
    }
  }
}

}  // namespace earshot::listen
