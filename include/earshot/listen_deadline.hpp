// Running a piece of work that may never return, with a deadline.
//
// Closing a capture stream whose sound server died can hang inside the sound libraries
// (listen_device_supervisor.hpp), so the daemon closes streams through finish_within():
// past the deadline the work is abandoned, still running on a detached thread, and the
// caller goes on.
#pragma once

#include <chrono>
#include <functional>

namespace earshot::listen {

// Runs `work` on a new thread and waits up to `limit` for it. Returns true when it finished
// in time (rethrowing what it threw); false when it did not, leaving it running on a detached
// thread. `work` must therefore own, or keep alive, everything it touches.
bool finish_within(std::chrono::duration<double> limit, std::function<void()> work);

}  // namespace earshot::listen
