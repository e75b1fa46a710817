// Keeps a live capture running: opens the chosen device, watches it, and when it goes away
// (unplugged, sound server restarted, stream error, or no audio for stall_timeout) reports
// it and reopens it with exponential backoff (0.5 s, 1 s, 2 s, ... up to 30 s) until it is
// back or a stop is requested. Meanwhile the worker simply sees no audio.
//
// Opening a stream (with its PortAudio session and device scan), starting it, and closing a
// stream (one that ran, or what a failed open or start left) each run on a helper thread
// with a deadline (device_timeout_s), because those calls can hang: a frozen sound server
// (stopped, or stuck) makes opening wait for ever, and when a sound server dies the libraries
// can deadlock in the stream's own thread (libpulse and ALSA's pulse plugin do, now and
// then), so that closing it never returns. A call stuck past the deadline is abandoned to
// its helper with the stream and session:
//   - a close: the device is opened afresh as for any loss (a new stream gets its own
//     connection to the sound server). The stuck thread waits inside libpulse on its own
//     stream, which the tests show a new session can live beside;
//   - an open or a start, or the close after one that failed: supervision gives up
//     (kDeviceHung). Such a call may hang anywhere in PortAudio, its initialisation
//     included, and PortAudio promises nothing to a second thread meanwhile. The daemon then
//     exits 1 so that whatever runs it (systemd's Restart=on-failure) can start it afresh.
// A stop request ends the wait for an open, a start or the close after a failed one at once
// (not for the close of a stream that ran).
//
// Start-up is stricter than recovery: if no matching device can be opened at the start,
// supervise() throws (unless closing what the failed open left then hangs: kDeviceHung) and
// the daemon exits 1, because a wrong --device or a machine without
// any microphone is a configuration error better shown at once. (Under systemd,
// Restart=on-failure turns that into a slow retry too.)
#pragma once

#include <functional>
#include <string>

#include "earshot/listen_capture_buffer.hpp"
#include "earshot/listen_device.hpp"
#include "earshot/listen_events.hpp"
#include "earshot/listen_stop_token.hpp"

namespace earshot::listen {

// Waits of initial, 2 initial, 4 initial, ... capped at maximum; reset() starts over.
class Backoff {
 public:
  Backoff(double initial_s, double maximum_s);  // throws earshot::Error unless 0 < initial <= max
  double next_s();
  void reset() { next_s_ = initial_s_; }

 private:
  double initial_s_;
  double maximum_s_;
  double next_s_;
};

struct SupervisorSettings {
  double initial_backoff_s = 0.5;
  double max_backoff_s = 30.0;
  double stall_timeout_s = 5.0;  // no callback for this long counts as a lost device
  double poll_s = 0.1;
  double format_handoff_timeout_s = 5.0;
  // A stream not opened, started or closed by then is abandoned (see the top of this file).
  double device_timeout_s = 10.0;
};

// How supervision ended. Both kinds that abandon a stream mean that a thread stuck in the
// sound libraries still holds it and the `capture` buffer it writes into: `capture` must then
// never be freed, and the process should leave with std::_Exit, since a normal exit runs the
// sound libraries' clean-up against the stuck thread.
enum class SupervisionEnd {
  kStopped,            // a stop was requested, every stream closed
  kStoppedAbandoning,  // a stop was requested; a stream had been abandoned on the way
  kDeviceHung,         // opening or starting a stream (or closing a failed one) hung: given up
};

// Runs until `stop` is requested, or an open, a start or the close after a failed one hangs,
// in the calling thread. `on_started` runs each time a stream starts delivering (first start
// and every recovery). Throws earshot::Error if the device cannot be opened at the start.
[[nodiscard]] SupervisionEnd supervise_device(
    const std::string& device_spec, CaptureBuffer& capture, EventSink& sink, StopToken& stop,
    const SupervisorSettings& settings,
    const std::function<void(const DeviceCapture&)>& on_started);

}  // namespace earshot::listen
