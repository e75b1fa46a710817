// Keeps a live capture running: opens the chosen device, watches it, and when it goes away
// (unplugged, sound server restarted, stream error, or no audio for stall_timeout) reports
// it and reopens it with exponential backoff (0.5 s, 1 s, 2 s, ... up to 30 s) until it is
// back or a stop is requested. Meanwhile the worker simply sees no audio.
//
// Streams are closed with a deadline (close_timeout_s): when a sound server dies, the sound
// libraries can deadlock in the stream's own thread (libpulse and ALSA's pulse plugin do,
// now and then), and closing it then never returns. Such a stream and its PortAudio
// session are abandoned to the stuck thread, and the device is opened afresh as for any
// loss: a new stream gets its own connection to the sound server. PortAudio stays
// initialised from then on, so devices are not scanned again.
//
// Start-up is stricter than recovery: if no matching device can be opened at the start,
// supervise() throws and the daemon exits 1, because a wrong --device or a machine without
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
  double close_timeout_s = 10.0;  // a stream not closed by then is abandoned
};

// Runs until `stop` is requested, in the calling thread. `on_started` runs each time a
// stream starts delivering (first start and every recovery). Throws earshot::Error if the
// device cannot be opened at the start. Returns true if a stream had to be abandoned: then
// `capture` must never be freed (that stream's stuck thread still points at it), and the process
// should leave with std::_Exit, since a normal exit runs the sound libraries' clean-up
// against the stuck thread.
[[nodiscard]] bool supervise_device(const std::string& device_spec, CaptureBuffer& capture,
                                    EventSink& sink, StopToken& stop,
                                    const SupervisorSettings& settings,
                                    const std::function<void(const DeviceCapture&)>& on_started);

}  // namespace earshot::listen
