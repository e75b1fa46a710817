// What `earshot listen` tells the world: one JSON object per line on stdout, flushed per line.
//
//   {"type":"started","source":"pulse","sample_rate":16000,"channels":1,"model":"m.earshot",
//    "keywords":["activate"],"threshold":0.5,"wall_time":"..."}
//   {"type":"detection","keyword":"activate","time_s":12.34,"start_s":11.7,"end_s":12.1,
//    "wall_time":"2024-05-01T12:34:56.789+02:00","score":0.97}
//   {"type":"status","audio_s":60.0,"overruns":0,"input_overflows":0,"cpu_percent":0.8,
//    "real_time_factor":0.004,"detections":3,"hooks_skipped":0,"final":false}
//   {"type":"saved","keyword":"activate","time_s":12.34,"path":"/var/lib/x/....wav"}
//   {"type":"reloaded","model":"m.earshot","keywords":["activate"]}
//   {"type":"warning","message":"..."}      something was lost or skipped; listening goes on
//   {"type":"error","message":"..."}        something failed; listening goes on unless it says so
//
// Times: time_s, start_s and end_s are seconds of audio since listening started (the
// detector's clock); wall_time is the local clock when the line was written, ISO-8601 with
// milliseconds and the UTC offset.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "earshot/detector.hpp"

namespace earshot::listen {

// "2024-05-01T12:34:56.789+02:00" in the local time zone.
std::string format_wall_time(std::chrono::system_clock::time_point time);
// A name-safe form for files: "20240501-123456.789".
std::string format_file_time(std::chrono::system_clock::time_point time);

struct StatusSnapshot {
  double audio_s = 0;                 // audio processed since the start, at 16 kHz
  std::uint64_t overruns = 0;         // samples dropped because the worker fell behind
  std::uint64_t input_overflows = 0;  // device callbacks that reported lost input
  double cpu_percent = 0;             // process CPU time / wall time since the last status, x100
  double real_time_factor = 0;        // worker processing seconds per second of audio, same span
  std::uint64_t detections = 0;
  std::uint64_t hooks_skipped = 0;
  bool final = false;  // the last line before a clean exit
};

nlohmann::json detection_event(const Detection& detection,
                               std::chrono::system_clock::time_point wall_time);
nlohmann::json status_event(const StatusSnapshot& status);
nlohmann::json warning_event(std::string_view message);
nlohmann::json error_event(std::string_view message);

// One event as its line (without the newline). Invalid UTF-8 (e.g. in a path) is replaced,
// never thrown.
std::string event_line(const nlohmann::json& event);

// Writes events as lines to a stdio stream. Any thread may emit; lines never interleave.
class EventSink {
 public:
  explicit EventSink(std::FILE* out) : out_(out) {}
  // Writes event_line(event) and a newline, and flushes.
  void emit(const nlohmann::json& event);
  void warning(std::string_view message) { emit(warning_event(message)); }
  void error(std::string_view message) { emit(error_event(message)); }

 private:
  std::FILE* out_;
  std::mutex mutex_;
};

}  // namespace earshot::listen
