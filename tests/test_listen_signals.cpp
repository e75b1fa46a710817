// Specification of the daemon's signal thread: signals become ordinary calls, outside any
// signal handler.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "earshot/listen_signals.hpp"

using earshot::listen::SignalWatcher;

namespace {

// Counts calls and lets the test wait for them.
struct CallLog {
  std::mutex mutex;
  std::condition_variable changed;
  int stops = 0;
  int reloads = 0;

  void add(int& counter) {
    {
      std::lock_guard lock(mutex);
      ++counter;
    }
    changed.notify_all();
  }
  // Waits for the counts (deadline: a guard against hanging, not a timing assertion).
  bool wait_for(int wanted_stops, int wanted_reloads) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, std::chrono::seconds(60),
                            [&] { return stops == wanted_stops && reloads == wanted_reloads; });
  }
};

}  // namespace

TEST_CASE("SIGHUP asks for a reload and SIGTERM and SIGINT for a stop", "[listen]") {
  CallLog log;
  {
    SignalWatcher watcher({[&] { log.add(log.stops); }, [&] { log.add(log.reloads); }});
    ::kill(::getpid(), SIGHUP);
    REQUIRE(log.wait_for(0, 1));
    ::kill(::getpid(), SIGTERM);
    REQUIRE(log.wait_for(1, 1));
    ::kill(::getpid(), SIGINT);
    REQUIRE(log.wait_for(2, 1));
  }
  CHECK(log.stops == 2);
  CHECK(log.reloads == 1);
}

TEST_CASE("the watcher leaves the signal mask as it found it", "[listen]") {
  sigset_t before;
  pthread_sigmask(SIG_SETMASK, nullptr, &before);
  { SignalWatcher watcher({}); }
  sigset_t after;
  pthread_sigmask(SIG_SETMASK, nullptr, &after);
  for (int signal_number : {SIGINT, SIGTERM, SIGHUP, SIGUSR1}) {
    CHECK(sigismember(&before, signal_number) == sigismember(&after, signal_number));
  }
}

TEST_CASE("a stray SIGUSR1 does not stop the watcher", "[listen]") {
  CallLog log;
  SignalWatcher watcher({[&] { log.add(log.stops); }, {}});
  ::kill(::getpid(), SIGUSR1);
  ::kill(::getpid(), SIGTERM);
  CHECK(log.wait_for(1, 0));
}
