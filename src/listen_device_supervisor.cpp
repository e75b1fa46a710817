#include "earshot/listen_device_supervisor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include "earshot/error.hpp"
#include "earshot/listen_deadline.hpp"

namespace earshot::listen {
namespace {

using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

// A running stream and the session it lives in (the stream must close first).
struct LiveCapture {
  std::unique_ptr<PortAudioSession> session;
  std::unique_ptr<DeviceCapture> stream;

  void close() {
    stream.reset();
    session.reset();
  }
};

// Closes `live` (a stream and its session) on a helper thread that owns it. Returns false,
// after reporting it, if that does not finish within the timeout: the helper then keeps it,
// stuck, for good.
bool close_or_abandon(LiveCapture live, EventSink& sink, const SupervisorSettings& settings) {
  const std::string name = live.stream->device().name;
  live.stream->stop_delivering();
  auto owned = std::make_shared<LiveCapture>(std::move(live));
  if (finish_within(Seconds(settings.device_timeout_s), [owned] { owned->close(); })) {
    return true;
  }
  sink.error(fmt::format(
      "closing audio device '{}' did not finish within {} s (the sound library hung in it); "
      "the stream is abandoned",
      name, settings.device_timeout_s));
  return false;
}

// What became of a call into the sound libraries made with the deadline.
enum class CallEnd { kReturned, kStopped, kHung };

// Runs `call` on `live` on a helper thread that shares it, and waits until the call returns
// (rethrowing what it threw), a stop is requested or device_timeout_s passes. In the last two
// cases the helper keeps `live`, abandoned. (Should the call return just after we stopped
// waiting, whichever side lets go of `live` last closes it.)
CallEnd call_with_deadline(const std::shared_ptr<LiveCapture>& live,
                           std::function<void(LiveCapture&)> call, StopToken& stop,
                           const SupervisorSettings& settings) {
  if (finish_within(
          Seconds(settings.device_timeout_s), [live, call = std::move(call)] { call(*live); },
          Seconds(settings.poll_s), [&stop] { return stop.requested(); })) {
    return CallEnd::kReturned;
  }
  return stop.requested() ? CallEnd::kStopped : CallEnd::kHung;
}

// How an attempt to get a stream running ended.
enum class OpenEnd {
  kStarted,          // a stream runs
  kStopped,          // a stop was requested; nothing left open
  kAbandonedAtStop,  // a stop was requested while a call hung in the sound libraries
  kHung,             // opening, starting or closing a failed open hung: reported, abandoned
};

std::string device_label(const std::string& device_spec) {
  return device_spec.empty() ? std::string("the default audio device")
                             : fmt::format("audio device '{}'", device_spec);
}

OpenEnd report_unfinished(CallEnd end, const std::string& what, EventSink& sink,
                          const SupervisorSettings& settings) {
  if (end == CallEnd::kStopped) return OpenEnd::kAbandonedAtStop;
  sink.error(fmt::format(
      "{} did not finish within {} s (the sound library hung in it: is the sound server "
      "frozen?); giving up",
      what, settings.device_timeout_s));
  return OpenEnd::kHung;
}

// Opens the device (a PortAudio session, the device scan, the stream) into `live`, lets the
// worker adopt the stream's format, and starts it. The calls into the sound libraries run with
// the deadline. Throws earshot::Error when the device cannot be opened or started.
OpenEnd try_open_and_start(const std::shared_ptr<LiveCapture>& live, const std::string& device_spec,
                           CaptureBuffer& capture, StopToken& stop, EventSink& sink,
                           const SupervisorSettings& settings) {
  const CallEnd opened = call_with_deadline(
      live,
      [device_spec, &capture](LiveCapture& opening) {
        opening.session = std::make_unique<PortAudioSession>();
        const InputDevice device =
            match_input_device(opening.session->input_devices(), device_spec);
        opening.stream = std::make_unique<DeviceCapture>(device, capture);
      },
      stop, settings);
  if (opened != CallEnd::kReturned) {
    return report_unfinished(opened, "opening " + device_label(device_spec), sink, settings);
  }

  capture.announce_format(live->stream->format());
  const auto deadline = Clock::now() + Seconds(settings.format_handoff_timeout_s);
  while (!capture.wait_format_adopted(Seconds(settings.poll_s))) {
    if (stop.requested()) {
      return close_or_abandon(std::move(*live), sink, settings) ? OpenEnd::kStopped
                                                                : OpenEnd::kAbandonedAtStop;
    }
    if (Clock::now() > deadline) throw Error("the listen worker did not take the new audio format");
  }

  const CallEnd running = call_with_deadline(
      live, [](LiveCapture& opened_stream) { opened_stream.stream->start(); }, stop, settings);
  if (running != CallEnd::kReturned) {
    // Should the start ever finish, its stream must not feed the buffer (one producer).
    live->stream->stop_delivering();
    const std::string what = fmt::format("starting audio device '{}'", live->stream->device().name);
    return report_unfinished(running, what, sink, settings);
  }
  return OpenEnd::kStarted;
}

// try_open_and_start() into `started`. When the open or the start fails with an error, what
// it left open (a session, perhaps a stream) is closed with the deadline too before the error
// goes on (a failing start can come with a dying sound server, whose close can hang); should
// that close hang, the failure is reported and supervision gives up as for a hung open, and a
// stop ends the wait as it does for an open.
OpenEnd open_and_start(const std::string& device_spec, CaptureBuffer& capture, StopToken& stop,
                       EventSink& sink, const SupervisorSettings& settings, LiveCapture& started) {
  auto live = std::make_shared<LiveCapture>();
  try {
    const OpenEnd end = try_open_and_start(live, device_spec, capture, stop, sink, settings);
    if (end == OpenEnd::kStarted) started = std::move(*live);
    return end;
  } catch (const Error& failure) {
    // Every call into the sound libraries has returned here (an abandoned one returns an
    // OpenEnd instead of throwing), so no helper still works on `live`.
    if (live->stream) live->stream->stop_delivering();
    const CallEnd closed = call_with_deadline(
        live, [](LiveCapture& failed) { failed.close(); }, stop, settings);
    if (closed == CallEnd::kReturned) throw;
    if (closed == CallEnd::kStopped) {
      sink.error(fmt::format("{}; stopped while closing what was opened", failure.what()));
      return OpenEnd::kAbandonedAtStop;
    }
    sink.error(fmt::format(
        "{}; closing what was opened did not finish within {} s (the sound library hung in it); "
        "giving up",
        failure.what(), settings.device_timeout_s));
    return OpenEnd::kHung;
  }
}

// Why the running stream should be considered lost, or empty.
class HealthCheck {
 public:
  HealthCheck(const CaptureBuffer& capture, double stall_timeout_s)
      : capture_(&capture),
        stall_timeout_(std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(stall_timeout_s))),
        last_deliveries_(capture.deliveries()),
        last_progress_(Clock::now()) {}

  std::string problem(const DeviceCapture& stream) {
    if (std::string failure = stream.failure(); !failure.empty()) return failure;
    const auto now = Clock::now();
    const std::uint64_t deliveries = capture_->deliveries();
    if (deliveries != last_deliveries_) {
      last_deliveries_ = deliveries;
      last_progress_ = now;
    } else if (now - last_progress_ > stall_timeout_) {
      return fmt::format("no audio arrived for {:.1f} s",
                         std::chrono::duration<double>(now - last_progress_).count());
    }
    return {};
  }

 private:
  const CaptureBuffer* capture_;
  Clock::duration stall_timeout_;
  std::uint64_t last_deliveries_;
  Clock::time_point last_progress_;
};

// Watches the running stream until it is lost (returns why) or a stop is requested
// (returns empty).
std::string watch(const DeviceCapture& stream, const CaptureBuffer& capture, StopToken& stop,
                  const SupervisorSettings& settings) {
  HealthCheck health(capture, settings.stall_timeout_s);
  while (!stop.wait_for(Seconds(settings.poll_s))) {
    if (std::string problem = health.problem(stream); !problem.empty()) return problem;
  }
  return {};
}

// After a loss: tries to open the device again, `wait_s` from now and then with `backoff`
// between tries, until a stream runs, a stop is requested or an open hangs.
OpenEnd reopen(const std::string& device_spec, const std::string& lost_name, CaptureBuffer& capture,
               StopToken& stop, EventSink& sink, const SupervisorSettings& settings,
               Backoff& backoff, double wait_s, LiveCapture& started) {
  while (!stop.wait_for(Seconds(wait_s))) {
    try {
      return open_and_start(device_spec, capture, stop, sink, settings, started);
    } catch (const Error& e) {
      wait_s = backoff.next_s();
      sink.error(fmt::format("reopening audio device '{}' failed ({}); next try in {} s",
                             device_spec.empty() ? lost_name : device_spec, e.what(), wait_s));
    }
  }
  return OpenEnd::kStopped;
}

}  // namespace

Backoff::Backoff(double initial_s, double maximum_s)
    : initial_s_(initial_s), maximum_s_(maximum_s), next_s_(initial_s) {
  if (!(initial_s > 0) || !(maximum_s >= initial_s)) {
    throw Error(
        fmt::format("backoff needs 0 < initial <= maximum, got {} and {}", initial_s, maximum_s));
  }
}

double Backoff::next_s() {
  const double wait_s = next_s_;
  next_s_ = std::min(next_s_ * 2, maximum_s_);
  return wait_s;
}

SupervisionEnd supervise_device(const std::string& device_spec, CaptureBuffer& capture,
                                EventSink& sink, StopToken& stop,
                                const SupervisorSettings& settings,
                                const std::function<void(const DeviceCapture&)>& on_started) {
  LiveCapture live;
  // At the start a device that cannot be opened throws: a configuration error (header).
  OpenEnd end = open_and_start(device_spec, capture, stop, sink, settings, live);
  bool abandoned = false;
  Backoff backoff(settings.initial_backoff_s, settings.max_backoff_s);
  while (end == OpenEnd::kStarted) {
    if (on_started) on_started(*live.stream);
    const std::string problem = watch(*live.stream, capture, stop, settings);
    if (problem.empty()) break;  // stopped
    const std::string name = live.stream->device().name;
    const double wait_s = backoff.next_s();
    // Reported first: the close may hang (see the header), and the loss must be known then.
    // The wait counts from the end of the close, which can take up to device_timeout_s.
    sink.error(fmt::format("audio device '{}' lost ({}); closing it, then reopening {} s later",
                           name, problem, wait_s));
    abandoned |= !close_or_abandon(std::move(live), sink, settings);
    end = reopen(device_spec, name, capture, stop, sink, settings, backoff, wait_s, live);
    if (end == OpenEnd::kStarted) backoff.reset();
  }
  // A stop often comes with the sound server's own (at logout, at shutdown), so this close
  // can hang as well.
  if (end == OpenEnd::kStarted) abandoned |= !close_or_abandon(std::move(live), sink, settings);
  switch (end) {
    case OpenEnd::kHung:
      return SupervisionEnd::kDeviceHung;
    case OpenEnd::kAbandonedAtStop:
      return SupervisionEnd::kStoppedAbandoning;
    default:
      return abandoned ? SupervisionEnd::kStoppedAbandoning : SupervisionEnd::kStopped;
  }
}

}  // namespace earshot::listen
