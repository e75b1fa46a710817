#include "earshot/listen_deadline.hpp"

#include <algorithm>
#include <future>
#include <thread>

namespace earshot::listen {

bool finish_within(std::chrono::duration<double> limit, std::function<void()> work) {
  return finish_within(limit, std::move(work), limit, [] { return false; });
}

bool finish_within(std::chrono::duration<double> limit, std::function<void()> work,
                   std::chrono::duration<double> poll, const std::function<bool()>& give_up) {
  // The task's shared state outlives whichever side lets go of it last, so an abandoned
  // thread can still finish and store its result safely.
  std::packaged_task<void()> task(std::move(work));
  std::future<void> finished = task.get_future();
  std::thread runner(std::move(task));
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(limit);
  const Clock::duration step = std::max(std::chrono::duration_cast<Clock::duration>(poll),
                                        Clock::duration(std::chrono::milliseconds(1)));
  bool ready = false;
  do {
    const Clock::duration left = std::max(deadline - Clock::now(), Clock::duration::zero());
    ready = finished.wait_for(std::min(left, step)) == std::future_status::ready;
  } while (!ready && Clock::now() < deadline && !give_up());
  if (!ready) {
    runner.detach();
    return false;
  }
  runner.join();
  finished.get();
  return true;
}

}  // namespace earshot::listen
