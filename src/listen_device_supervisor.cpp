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
  if (finish_within(std::chrono::duration<double>(settings.close_timeout_s),
                    [owned] { owned->close(); })) {
    return true;
  }
  sink.error(fmt::format(
      "closing audio device '{}' did not finish within {} s (the sound library hung in it); "
      "the stream is abandoned",
      name, settings.close_timeout_s));
  return false;
}

// Opens the device, lets the worker adopt its format, and starts it.
LiveCapture open_and_start(const std::string& device_spec, CaptureBuffer& capture, StopToken& stop,
                           const SupervisorSettings& settings) {
  LiveCapture live;
  live.session = std::make_unique<PortAudioSession>();
  const InputDevice device = match_input_device(live.session->input_devices(), device_spec);
  live.stream = std::make_unique<DeviceCapture>(device, capture);
  capture.announce_format(live.stream->format());
  const auto deadline =
      Clock::now() + std::chrono::duration<double>(settings.format_handoff_timeout_s);
  while (!capture.wait_format_adopted(std::chrono::duration<double>(settings.poll_s))) {
    if (stop.requested()) return live;
    if (Clock::now() > deadline) throw Error("the listen worker did not take the new audio format");
  }
  live.stream->start();
  return live;
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

bool supervise_device(const std::string& device_spec, CaptureBuffer& capture, EventSink& sink,
                      StopToken& stop, const SupervisorSettings& settings,
                      const std::function<void(const DeviceCapture&)>& on_started) {
  LiveCapture live = open_and_start(device_spec, capture, stop, settings);
  if (stop.requested()) return false;
  bool abandoned = false;
  if (on_started) on_started(*live.stream);
  Backoff backoff(settings.initial_backoff_s, settings.max_backoff_s);
  HealthCheck health(capture, settings.stall_timeout_s);
  while (!stop.wait_for(std::chrono::duration<double>(settings.poll_s))) {
    const std::string problem = health.problem(*live.stream);
    if (problem.empty()) continue;
    const std::string name = live.stream->device().name;
    double wait_s = backoff.next_s();
    // Reported first: the close may hang (see the header), and the loss must be known then.
    sink.error(
        fmt::format("audio device '{}' lost ({}); reopening in {} s", name, problem, wait_s));
    abandoned |= !close_or_abandon(std::move(live), sink, settings);
    while (!stop.wait_for(std::chrono::duration<double>(wait_s))) {
      try {
        live = open_and_start(device_spec, capture, stop, settings);
        break;
      } catch (const Error& e) {
        wait_s = backoff.next_s();
        sink.error(fmt::format("reopening audio device '{}' failed ({}); next try in {} s",
                               device_spec.empty() ? name : device_spec, e.what(), wait_s));
      }
    }
    if (stop.requested()) break;
    backoff.reset();
    health = HealthCheck(capture, settings.stall_timeout_s);
    if (on_started) on_started(*live.stream);
  }
  // A stop often comes with the sound server's own (at logout, at shutdown), so this close
  // can hang as well.
  if (live.stream) abandoned |= !close_or_abandon(std::move(live), sink, settings);
  return abandoned;
}

}  // namespace earshot::listen
