#include "earshot/listen_deadline.hpp"

#include <future>
#include <thread>

namespace earshot::listen {

bool finish_within(std::chrono::duration<double> limit, std::function<void()> work) {
  // The task's shared state outlives whichever side lets go of it last, so an abandoned
  // thread can still finish and store its result safely.
  std::packaged_task<void()> task(std::move(work));
  std::future<void> finished = task.get_future();
  std::thread runner(std::move(task));
  if (finished.wait_for(limit) != std::future_status::ready) {
    runner.detach();
    return false;
  }
  runner.join();
  finished.get();
  return true;
}

}  // namespace earshot::listen
