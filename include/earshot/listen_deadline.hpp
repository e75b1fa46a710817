// Running a piece of work that may never return, with a deadline.
//
// Opening, starting and closing a capture stream can hang inside the sound libraries (a
// frozen sound server makes the open wait for ever; libpulse can deadlock in a close when
// its server dies: listen_device_supervisor.hpp), so the daemon makes those calls through
// finish_within(): past the deadline the work is abandoned, still running on a detached
// thread, and the caller goes on.
#pragma once

#include <chrono>
#include <functional>

namespace earshot::listen {

// Runs `work` on a new thread and waits up to `limit` for it. Returns true when it finished
// in time (rethrowing what it threw); false when it did not, leaving it running on a detached
// thread. `work` must therefore own, or keep alive, everything it touches.
bool finish_within(std::chrono::duration<double> limit, std::function<void()> work);

// The same, but the wait also ends, returning false, once `give_up()` returns true (asked
// every `poll`): a stop request need not wait for the deadline.
bool finish_within(std::chrono::duration<double> limit, std::function<void()> work,
                   std::chrono::duration<double> poll, const std::function<bool()>& give_up);

}  // namespace earshot::listen
