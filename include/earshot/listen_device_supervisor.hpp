// Keeps a live capture running: opens the chosen device, watches it, and when it goes away
// (unplugged, sound server restarted, stream error, or no audio for stall_timeout) reports
// it and reopens it with exponential backoff (0.5 s, 1 s, 2 s, ... up to 30 s) until it is
// back or a stop is requested. Meanwhile the worker simply sees no audio.
//
// Streams are closed with a deadline (close_timeout_s): closing one whose sound server died
// can deadlock inside the sound libraries. If it does, the stream and its PortAudio
// session are abandoned to the stuck thread, nothing can be reopened in this process, and
// supervise_device() throws StreamAbandoned; the daemon then stops and exits 1, for a service
// manager to start it afresh.
//
// Start-up is stricter than recovery: if no matching device can be opened at the start,
// supervise() throws and the daemon exits 1, because a wrong --device or a machine without
// any microphone is a configuration error better shown at once. (Under systemd,
// Restart=on-failure turns that into a slow retry too.)
#pragma once

#include <functional>
#include <string>

#include "earshot/error.hpp"
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
  double close_timeout_s = 10.0;  // a lost stream not closed by then is abandoned
};

// The stream could not be closed in time and still belongs to a thread stuck in the sound
// libraries: its CaptureBuffer must outlive the process, which should exit without running
// the libraries' exit-time cleanup (std::_Exit).
class StreamAbandoned : public Error {
 public:
  using Error::Error;
};

// Runs until `stop` is requested, in the calling thread. `on_started` runs each time a
// stream starts delivering (first start and every recovery). Throws earshot::Error if the
// device cannot be opened at the start, StreamAbandoned if a stream cannot be closed (then
// `capture` must never be freed: the abandoned stream may still write into it).
void supervise_device(const std::string& device_spec, CaptureBuffer& capture, EventSink& sink,
                      StopToken& stop, const SupervisorSettings& settings,
                      const std::function<void(const DeviceCapture&)>& on_started);

}  // namespace earshot::listen
