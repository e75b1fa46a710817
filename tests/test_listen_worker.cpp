// Specification of the listen worker, in-process: audio in the capture buffer comes out as
// detections at the right times, whatever the capture format, and the side jobs (status,
// lost-audio warnings, model reload) happen between chunks.
#include <catch2/catch.hpp>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "earshot/listen_capture_buffer.hpp"
#include "earshot/listen_events.hpp"
#include "earshot/listen_worker.hpp"
#include "test_listen_fixtures.hpp"

using namespace earshot;
using namespace earshot::listen;
using namespace earshot::listen_test;
using Catch::Matchers::Contains;

namespace {

std::vector<nlohmann::json> events_in(std::FILE* file) {
  std::rewind(file);
  std::vector<nlohmann::json> events;
  char buffer[8192];
  while (std::fgets(buffer, sizeof buffer, file)) {
    REQUIRE(nlohmann::json::accept(buffer));
    events.push_back(nlohmann::json::parse(buffer));
  }
  return events;
}

// Interleaves `channels` copies of `mono`.
std::vector<float> as_channels(const std::vector<float>& mono, int channels) {
  std::vector<float> interleaved;
  for (const float sample : mono)
    interleaved.insert(interleaved.end(), channels, sample);
  return interleaved;
}

// Runs a worker over `interleaved` audio of `format`, delivered in 10 ms callbacks by a
// producer that waits for room (so nothing is dropped), and returns the events.
std::vector<nlohmann::json> run_worker(const std::vector<float>& interleaved,
                                       const CaptureFormat& format,
                                       std::shared_ptr<const Model> model,
                                       WorkerSettings settings = {},
                                       ModelHandoff* reloads = nullptr,
                                       std::size_t reload_after_samples = 0,
                                       std::shared_ptr<const Model> reload_model = nullptr) {
  std::FILE* file = std::tmpfile();
  REQUIRE(file != nullptr);
  {
    EventSink sink(file);
    CaptureBuffer capture(ring_capacity_for(format, 1.0));
    ListenWorker worker({&capture, &sink, nullptr, nullptr, reloads}, model, {}, settings);
    std::thread worker_thread([&] { worker.run(); });
    capture.announce_format(format);
    REQUIRE(capture.wait_format_adopted(std::chrono::seconds(60)));
    const std::size_t callback_samples = static_cast<std::size_t>(format.sample_rate / 100) *
                                         static_cast<std::size_t>(format.channels);
    for (std::size_t at = 0; at < interleaved.size(); at += callback_samples) {
      if (reloads && at == reload_after_samples) {
        // Offer once the worker has caught up, so the swap happens at this point of the audio.
        while (capture.available_to_read() > 0)
          std::this_thread::yield();
        reloads->offer(reload_model);
      }
      const std::size_t count = std::min(callback_samples, interleaved.size() - at);
      while (capture.available_to_write() < count)
        std::this_thread::yield();
      capture.deliver(std::span(interleaved).subspan(at, count), false);
    }
    worker.end_of_input();
    worker_thread.join();
  }
  const auto events = events_in(file);
  std::fclose(file);
  return events;
}

const std::vector<double> kBursts_s = {1.0, 3.5, 6.0};

}  // namespace

TEST_CASE("16 kHz mono input gives one detection per tone burst, at the burst", "[listen]") {
  const auto audio = tone_bursts(kBursts_s, 8.0);
  const auto events = run_worker(audio, {16000.0, 1}, make_tone_model());
  check_one_detection_per_burst(detection_times(events), kBursts_s);
  CHECK(of_type(events, "detection").front()["keyword"] == "tone");
}

TEST_CASE("48 kHz stereo input is mixed down and resampled to the same detections", "[listen]") {
  const auto audio = as_channels(tone_bursts(kBursts_s, 8.0, 48000), 2);
  const auto events = run_worker(audio, {48000.0, 2}, make_tone_model());
  check_one_detection_per_burst(detection_times(events), kBursts_s);
}

TEST_CASE("44.1 kHz input, a rate that is not a multiple of 16 kHz, also works", "[listen]") {
  const auto audio = tone_bursts(kBursts_s, 8.0, 44100);
  const auto events = run_worker(audio, {44100.0, 1}, make_tone_model());
  check_one_detection_per_burst(detection_times(events), kBursts_s);
}

TEST_CASE("a tone of another pitch is not detected", "[listen]") {
  const auto audio = tone_bursts(kBursts_s, 8.0, kSampleRate, kDistractorHz);
  const auto events = run_worker(audio, {16000.0, 1}, make_tone_model());
  CHECK(of_type(events, "detection").empty());
}

TEST_CASE("the last line is a final status with all the audio counted", "[listen]") {
  const auto audio = tone_bursts(kBursts_s, 8.0);
  const auto events = run_worker(audio, {16000.0, 1}, make_tone_model());
  REQUIRE_FALSE(events.empty());
  const auto& last = events.back();
  CHECK(last["type"] == "status");
  CHECK(last["final"] == true);
  CHECK(last["audio_s"].get<double>() == Approx(8.0));
  CHECK(last["detections"] == 3);
  CHECK(last["overruns"] == 0);
  CHECK(last["input_overflows"] == 0);
  for (const char* field : {"cpu_percent", "real_time_factor", "hooks_skipped"}) {
    CHECK(last.contains(field));
  }
}

TEST_CASE("a status interval of 0 leaves only the final status line", "[listen]") {
  WorkerSettings settings;
  settings.status_every_s = 0;
  const auto events = run_worker(tone_bursts({}, 2.0), {16000.0, 1}, make_tone_model(), settings);
  CHECK(of_type(events, "status").size() == 1);
}

TEST_CASE("a reloaded model takes over between chunks and times keep counting", "[listen]") {
  ModelHandoff reloads;
  const auto audio = tone_bursts(kBursts_s, 8.0);
  // Swap to a model with another keyword at 2.5 s, between the first and second burst.
  const auto events = run_worker(audio, {16000.0, 1}, make_tone_model("before"), {}, &reloads,
                                 40000, make_tone_model("after"));
  const auto detections = of_type(events, "detection");
  check_one_detection_per_burst(detection_times(events), kBursts_s);
  CHECK(detections[0]["keyword"] == "before");
  CHECK(detections[1]["keyword"] == "after");
  CHECK(detections[2]["keyword"] == "after");
  const auto reloaded = of_type(events, "reloaded");
  REQUIRE(reloaded.size() == 1);
  CHECK(reloaded.front()["keywords"] == nlohmann::json::array({"after"}));
}

TEST_CASE("audio the ring had to drop is reported as a warning and in the status", "[listen]") {
  std::FILE* file = std::tmpfile();
  REQUIRE(file != nullptr);
  {
    EventSink sink(file);
    CaptureBuffer capture(1024);
    ListenWorker worker({&capture, &sink, nullptr, nullptr, nullptr}, make_tone_model(), {});
    // Before the worker runs (in its initial format, 16 kHz mono): 1024 samples fit, 976 are
    // dropped; two device overflows.
    capture.deliver(std::vector<float>(2000, 0.0f), true);
    capture.deliver({}, true);
    std::thread worker_thread([&] { worker.run(); });
    worker.end_of_input();
    worker_thread.join();
  }
  const auto events = events_in(file);
  std::fclose(file);
  const auto warnings = of_type(events, "warning");
  REQUIRE(warnings.size() == 1);
  CHECK(warnings.front()["overruns"] == 976);
  CHECK(warnings.front()["input_overflows"] == 2);
  CHECK_THAT(warnings.front()["message"].get<std::string>(), Contains("976 samples dropped"));
  CHECK(events.back()["overruns"] == 976);
  CHECK(events.back()["input_overflows"] == 2);
}
