// Specification of the JSON lines `earshot listen` writes on stdout.
#include <stdlib.h>
#include <time.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "earshot/listen_events.hpp"

using namespace earshot;
using namespace earshot::listen;
using Catch::Matchers::Contains;

namespace {

// Sets TZ for the test and restores it after, so the wall-time format can be checked exactly.
class TimeZone {
 public:
  explicit TimeZone(const char* zone) {
    if (const char* old = std::getenv("TZ")) previous_ = old;
    setenv("TZ", zone, 1);
    tzset();
  }
  ~TimeZone() {
    if (previous_.empty()) {
      unsetenv("TZ");
    } else {
      setenv("TZ", previous_.c_str(), 1);
    }
    tzset();
  }

 private:
  std::string previous_;
};

// 2024-05-01 12:34:56.789 UTC.
std::chrono::system_clock::time_point may_first_2024() {
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(1714566896789));
}

std::vector<std::string> lines_of(std::FILE* file) {
  std::rewind(file);
  std::vector<std::string> lines;
  char buffer[8192];
  while (std::fgets(buffer, sizeof buffer, file)) {
    std::string line(buffer);
    REQUIRE(line.back() == '\n');
    line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

}  // namespace

TEST_CASE("wall time is ISO-8601 local time with milliseconds and the UTC offset", "[listen]") {
  {
    TimeZone utc("UTC0");
    CHECK(format_wall_time(may_first_2024()) == "2024-05-01T12:34:56.789+00:00");
  }
  {
    TimeZone india("IST-5:30");  // POSIX sign: 5:30 east of UTC
    CHECK(format_wall_time(may_first_2024()) == "2024-05-01T18:04:56.789+05:30");
  }
  {
    TimeZone new_york_winter("EST5");
    CHECK(format_wall_time(may_first_2024()) == "2024-05-01T07:34:56.789-05:00");
  }
}

TEST_CASE("file names get the local time without separators that need quoting", "[listen]") {
  TimeZone utc("UTC0");
  CHECK(format_file_time(may_first_2024()) == "20240501-123456.789");
}

TEST_CASE("a detection line carries keyword, times, wall time and score", "[listen]") {
  TimeZone utc("UTC0");
  Detection detection;
  detection.keyword = "activate";
  detection.time_s = 12.3456789;
  detection.start_s = 11.7;
  detection.end_s = 12.1;
  detection.score = 0.97312345f;
  const nlohmann::json event = detection_event(detection, may_first_2024());
  CHECK(event_line(event) ==
        R"({"end_s":12.1,"keyword":"activate","score":0.9731,"start_s":11.7,)"
        R"("time_s":12.346,"type":"detection","wall_time":"2024-05-01T12:34:56.789+00:00"})");
}

TEST_CASE("a status line carries the counters and rates", "[listen]") {
  StatusSnapshot status;
  status.audio_s = 60.0004;
  status.overruns = 320;
  status.input_overflows = 2;
  status.cpu_percent = 1.234;
  status.real_time_factor = 0.0041234567;
  status.detections = 3;
  status.hooks_skipped = 1;
  status.final = true;
  CHECK(event_line(status_event(status)) ==
        R"({"audio_s":60.0,"cpu_percent":1.23,"detections":3,"final":true,"hooks_skipped":1,)"
        R"("input_overflows":2,"overruns":320,"real_time_factor":0.004123,"type":"status"})");
}

TEST_CASE("warnings and errors are a type and a message", "[listen]") {
  CHECK(event_line(warning_event("audio lost")) == R"({"message":"audio lost","type":"warning"})");
  CHECK(event_line(error_event("device \"x\" lost")) ==
        R"({"message":"device \"x\" lost","type":"error"})");
}

TEST_CASE("invalid UTF-8 in a message is replaced rather than thrown", "[listen]") {
  const std::string bad_path = "/tmp/caf\xe9.wav";  // Latin-1 byte, not UTF-8
  std::string line;
  REQUIRE_NOTHROW(line = event_line(error_event("cannot write " + bad_path)));
  CHECK(nlohmann::json::accept(line));
  CHECK_THAT(line, Contains("caf\xef\xbf\xbd.wav"));  // U+FFFD
}

TEST_CASE("the sink writes one complete line per event, even from several threads", "[listen]") {
  std::FILE* file = std::tmpfile();
  REQUIRE(file != nullptr);
  {
    EventSink sink(file);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&sink, t] {
        for (int i = 0; i < 200; ++i) {
          sink.emit({{"type", "status"}, {"thread", t}, {"i", i}, {"pad", std::string(300, 'x')}});
        }
      });
    }
    for (auto& thread : threads)
      thread.join();
  }
  const std::vector<std::string> lines = lines_of(file);
  std::fclose(file);
  REQUIRE(lines.size() == 800);
  std::vector<int> next_per_thread(4, 0);
  for (const std::string& line : lines) {
    INFO(line);
    REQUIRE(nlohmann::json::accept(line));
    const auto event = nlohmann::json::parse(line);
    // Each thread's lines appear complete and in the order it wrote them.
    CHECK(event["i"].get<int>() == next_per_thread[event["thread"].get<std::size_t>()]++);
  }
}
