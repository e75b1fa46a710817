// parallel_for (train_parallel.hpp).
#include "train_parallel.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace earshot::train {

void parallel_for(int threads, std::size_t count, const std::function<void(std::size_t)>& work) {
  std::atomic<std::size_t> next{0};
  std::exception_ptr first_error;
  std::mutex error_mutex;
  const auto worker = [&] {
    for (std::size_t i = next++; i < count; i = next++) {
      try {
        work(i);
      } catch (...) {
        const std::lock_guard<std::mutex> lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
        next = count;  // stop handing out work
      }
    }
  };
  const std::size_t extra =
      std::min<std::size_t>(static_cast<std::size_t>(std::max(threads, 1)), count) - (count > 0);
  std::vector<std::thread> helpers;
  helpers.reserve(extra);
  for (std::size_t t = 0; t < extra; ++t)
    helpers.emplace_back(worker);
  worker();
  for (std::thread& helper : helpers)
    helper.join();
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace earshot::train
