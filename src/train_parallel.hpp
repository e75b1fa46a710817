// Runs independent pieces of training work on a few threads. Work items are handed out in
// order from a shared counter, so uneven items balance themselves; results must be written
// per item (never accumulated across items) to stay independent of timing.
#pragma once

#include <cstddef>
#include <functional>

namespace earshot::train {

// Calls work(i) for every i in [0, count) on up to `threads` threads (the caller's thread is
// one of them) and returns when all are done. If any call throws, the first exception is
// rethrown here after every thread has stopped.
void parallel_for(int threads, std::size_t count, const std::function<void(std::size_t)>& work);

}  // namespace earshot::train
