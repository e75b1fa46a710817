#include "earshot/listen_stop_token.hpp"

namespace earshot::listen {

void StopToken::request() {
  {
    // Set under the mutex so a waiter cannot check the flag, miss the store and then sleep.
    std::lock_guard lock(mutex_);
    requested_.store(true, std::memory_order_release);
  }
  woken_.notify_all();
}

bool StopToken::wait_for(std::chrono::duration<double> duration) {
  std::unique_lock lock(mutex_);
  woken_.wait_for(lock, duration, [this] { return requested(); });
  return requested();
}

}  // namespace earshot::listen
