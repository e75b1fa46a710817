#include "earshot/listen_events.hpp"

#include <fmt/format.h>

#include <cmath>
#include <ctime>

namespace earshot::listen {
namespace {

struct LocalTime {
  std::tm fields{};
  int milliseconds = 0;
};

LocalTime split_local(std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  const auto since_epoch_ms = duration_cast<milliseconds>(time.time_since_epoch()).count();
  // Floor division, so instants before 1970 still get a millisecond field in [0, 999].
  std::int64_t seconds = since_epoch_ms / 1000;
  int ms = static_cast<int>(since_epoch_ms % 1000);
  if (ms < 0) {
    ms += 1000;
    seconds -= 1;
  }
  LocalTime local;
  const std::time_t as_time_t = static_cast<std::time_t>(seconds);
  localtime_r(&as_time_t, &local.fields);
  local.milliseconds = ms;
  return local;
}

// Rounds to `decimals` places so lines stay short; the values are measurements, not
// identities. Dividing by the power of ten (not multiplying by 0.001) gives the double
// nearest the decimal, which prints as it reads: 11.7, not 11.700000000000001.
double rounded(double value, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(value * scale) / scale;
}

}  // namespace

std::string format_wall_time(std::chrono::system_clock::time_point time) {
  const LocalTime local = split_local(time);
  char date_time[32];
  std::strftime(date_time, sizeof date_time, "%Y-%m-%dT%H:%M:%S", &local.fields);
  // tm_gmtoff is seconds east of UTC; ISO-8601 wants "+hh:mm" (strftime's %z gives "+hhmm").
  const long offset_min = local.fields.tm_gmtoff / 60;
  const char sign = offset_min < 0 ? '-' : '+';
  const long magnitude = std::labs(offset_min);
  return fmt::format("{}.{:03d}{}{:02d}:{:02d}", date_time, local.milliseconds, sign,
                     magnitude / 60, magnitude % 60);
}

std::string format_file_time(std::chrono::system_clock::time_point time) {
  const LocalTime local = split_local(time);
  char date_time[32];
  std::strftime(date_time, sizeof date_time, "%Y%m%d-%H%M%S", &local.fields);
  return fmt::format("{}.{:03d}", date_time, local.milliseconds);
}

nlohmann::json detection_event(const Detection& detection,
                               std::chrono::system_clock::time_point wall_time) {
  return {{"type", "detection"},
          {"keyword", detection.keyword},
          {"time_s", rounded(detection.time_s, 3)},
          {"start_s", rounded(detection.start_s, 3)},
          {"end_s", rounded(detection.end_s, 3)},
          {"wall_time", format_wall_time(wall_time)},
          {"score", rounded(detection.score, 4)}};
}

nlohmann::json status_event(const StatusSnapshot& status) {
  return {{"type", "status"},
          {"audio_s", rounded(status.audio_s, 3)},
          {"overruns", status.overruns},
          {"input_overflows", status.input_overflows},
          {"cpu_percent", rounded(status.cpu_percent, 2)},
          {"real_time_factor", rounded(status.real_time_factor, 6)},
          {"detections", status.detections},
          {"hooks_skipped", status.hooks_skipped},
          {"final", status.final}};
}

nlohmann::json warning_event(std::string_view message) {
  return {{"type", "warning"}, {"message", message}};
}

nlohmann::json error_event(std::string_view message) {
  return {{"type", "error"}, {"message", message}};
}

std::string event_line(const nlohmann::json& event) {
  return event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void EventSink::emit(const nlohmann::json& event) {
  const std::string line = event_line(event);
  std::lock_guard lock(mutex_);
  std::fputs(line.c_str(), out_);
  std::fputc('\n', out_);
  std::fflush(out_);
}

}  // namespace earshot::listen
