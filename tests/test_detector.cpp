// Specification of the streaming detector (include/earshot/detector.hpp): post-processing
// rules on given probabilities, the times an event reports, and chunking invariance.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>
#include <span>
#include <vector>

#include "allocation_helpers.hpp"
#include "earshot/detector.hpp"
#include "earshot/error.hpp"
#include "test_label_fixtures.hpp"

namespace {

using earshot::Compression;
using earshot::Detection;
using earshot::Detector;
using earshot::DetectorConfig;
using earshot::EventPostProcessor;
using earshot::FiredRun;
using earshot::StepProbability;
using namespace earshot::testing;

DetectorConfig config_with(float threshold, int min_steps, int smoothing = 1,
                           double refractory_s = 0.0) {
  DetectorConfig config;
  config.threshold = threshold;
  config.min_steps_above = min_steps;
  config.smoothing_steps = smoothing;
  config.refractory_s = refractory_s;
  return config;
}

// Pushes every probability; returns the runs that fired.
std::vector<FiredRun> fire(EventPostProcessor& post, std::span<const float> probabilities) {
  std::vector<FiredRun> fired;
  for (const float p : probabilities) {
    if (const std::optional<FiredRun> run = post.push(p)) fired.push_back(*run);
  }
  return fired;
}

// Probabilities that are 0.9 on the given steps and 0.1 elsewhere.
std::vector<float> high_on(std::size_t length, std::initializer_list<std::size_t> high_steps) {
  std::vector<float> probabilities(length, 0.1f);
  for (const std::size_t step : high_steps)
    probabilities[step] = 0.9f;
  return probabilities;
}

struct DetectorOutput {
  std::vector<Detection> events;
  std::vector<StepProbability> steps;
};

DetectorOutput run_in_chunks(Detector& detector, std::span<const float> audio, std::size_t chunk) {
  detector.reset();
  DetectorOutput out;
  for (std::size_t start = 0; start < audio.size(); start += chunk) {
    detector.accept_waveform(audio.subspan(start, std::min(chunk, audio.size() - start)),
                             out.events, &out.steps);
  }
  return out;
}

// The audio time at which output step j can be computed, from the geometry alone:
// its last frame is j * stride + kernel - 1, which ends window samples after it starts.
double step_available_s(const earshot::Model& model, std::size_t step) {
  const auto& fe = model.metadata().frontend;
  const auto& shape = model.shape();
  const std::size_t last_frame = step * shape.conv_stride + shape.conv_kernel - 1;
  return static_cast<double>(last_frame * fe.hop_samples + fe.window_samples) / fe.sample_rate;
}

std::size_t first_step_above(const std::vector<StepProbability>& steps, float threshold) {
  for (std::size_t j = 0; j < steps.size(); ++j) {
    if (steps[j].smoothed >= threshold) return j;
  }
  FAIL("no step above threshold");
  return 0;
}

// ---- Post-processing on given probabilities -----------------------------------------------

TEST_CASE("a run fires on its min_steps_above-th consecutive step above the threshold") {
  EventPostProcessor post(config_with(0.5f, 3), 0.04);
  const std::vector<float> probabilities = {0.1f, 0.6f, 0.7f, 0.8f, 0.9f, 0.2f};
  const std::vector<FiredRun> fired = fire(post, probabilities);
  REQUIRE(fired.size() == 1);
  CHECK(fired[0].first_step == 1);
  CHECK(fired[0].fire_step == 3);
}

TEST_CASE("a run shorter than the minimum never fires") {
  EventPostProcessor post(config_with(0.5f, 3), 0.04);
  const std::vector<float> probabilities = {0.6f, 0.7f, 0.2f, 0.6f, 0.2f, 0.9f, 0.9f};
  CHECK(fire(post, probabilities).empty());
}

TEST_CASE("a step exactly at the threshold counts as above, one just below does not") {
  EventPostProcessor at(config_with(0.5f, 1), 0.04);
  CHECK(at.push(0.5f).has_value());
  EventPostProcessor below(config_with(0.5f, 1), 0.04);
  CHECK_FALSE(below.push(std::nextafter(0.5f, 0.0f)).has_value());
}

TEST_CASE("a long run above the threshold fires once") {
  EventPostProcessor post(config_with(0.5f, 2), 0.04);
  const std::vector<float> probabilities(50, 0.9f);
  CHECK(fire(post, probabilities).size() == 1);
}

TEST_CASE("the score is the peak smoothed probability up to the firing step") {
  EventPostProcessor post(config_with(0.5f, 3), 0.04);
  const std::vector<float> probabilities = {0.6f, 0.95f, 0.7f, 0.99f};
  const std::vector<FiredRun> fired = fire(post, probabilities);
  REQUIRE(fired.size() == 1);
  CHECK(fired[0].peak_smoothed == 0.95f);
}

TEST_CASE("the refractory period is converted to whole steps, rounding up") {
  CHECK(EventPostProcessor(config_with(0.5f, 1, 1, 1.0), 0.04).refractory_steps() == 25);
  CHECK(EventPostProcessor(config_with(0.5f, 1, 1, 1.0), 0.3).refractory_steps() == 4);
  CHECK(EventPostProcessor(config_with(0.5f, 1, 1, 0.0), 0.04).refractory_steps() == 0);
}

TEST_CASE("a run reaching its minimum within the refractory period is suppressed whole") {
  // 0.1 s steps and 1 s refractory: 10 steps. Runs reach their minimum of 2 on steps 1, 6
  // (5 steps after the event: suppressed, even though the run goes on past step 11) and 20.
  EventPostProcessor post(config_with(0.5f, 2, 1, 1.0), 0.1);
  const std::vector<float> probabilities =
      high_on(24, {0, 1, 5, 6, 7, 8, 9, 10, 11, 12, 13, 19, 20});
  const std::vector<FiredRun> fired = fire(post, probabilities);
  REQUIRE(fired.size() == 2);
  CHECK(fired[0].fire_step == 1);
  CHECK(fired[1].fire_step == 20);
}

TEST_CASE("a run reaching its minimum exactly one refractory period later fires") {
  EventPostProcessor post(config_with(0.5f, 2, 1, 1.0), 0.1);
  const std::vector<FiredRun> fired = fire(post, high_on(14, {0, 1, 10, 11}));
  REQUIRE(fired.size() == 2);
  CHECK(fired[1].fire_step - fired[0].fire_step == 10);
}

TEST_CASE("a suppressed run does not extend the refractory period") {
  // Event at step 1; the run firing at step 9 is suppressed; step 11 is 10 steps after the
  // event (not after the suppressed run) and fires.
  EventPostProcessor post(config_with(0.5f, 2, 1, 1.0), 0.1);
  const std::vector<FiredRun> fired = fire(post, high_on(14, {0, 1, 8, 9, 10, 11}));
  CHECK(fired.size() == 1);
  EventPostProcessor gap(config_with(0.5f, 2, 1, 1.0), 0.1);
  const std::vector<FiredRun> with_gap = fire(gap, high_on(14, {0, 1, 8, 9, 11, 12}));
  REQUIRE(with_gap.size() == 2);
  CHECK(with_gap[1].fire_step == 12);
}

TEST_CASE("smoothing is the mean of the last N probabilities, fewer at the start") {
  EventPostProcessor post(config_with(0.5f, 1, 3), 0.04);
  const std::vector<float> probabilities = {0.9f, 0.0f, 0.0f, 0.6f, 0.9f, 0.9f};
  const std::vector<double> expected = {0.9, 0.45, 0.3, 0.2, 0.5, 0.8};
  for (std::size_t j = 0; j < probabilities.size(); ++j) {
    post.push(probabilities[j]);
    CHECK(post.last_smoothed() == Approx(expected[j]).epsilon(1e-6));
  }
}

TEST_CASE("smoothing over 4 steps turns an isolated spike into no event") {
  const std::vector<float> spike = {0.0f, 0.0f, 0.0f, 0.0f, 1.0f, 0.0f, 0.0f, 0.0f};
  EventPostProcessor smoothed(config_with(0.5f, 1, 4), 0.04);
  CHECK(fire(smoothed, spike).empty());
  EventPostProcessor raw(config_with(0.5f, 1, 1), 0.04);
  CHECK(fire(raw, spike).size() == 1);
}

TEST_CASE("reset forgets the run in progress and the refractory period") {
  EventPostProcessor post(config_with(0.5f, 2, 1, 1.0), 0.1);
  const std::vector<float> twice = {0.9f, 0.9f};
  REQUIRE(fire(post, twice).size() == 1);
  post.reset();
  CHECK(post.steps_pushed() == 0);
  const std::vector<FiredRun> again = fire(post, twice);
  REQUIRE(again.size() == 1);
  CHECK(again[0].fire_step == 1);
}

TEST_CASE("invalid detector settings are rejected with the setting named") {
  CHECK_THROWS_WITH(config_with(0.0f, 2).validate(), Catch::Contains("threshold"));
  CHECK_THROWS_WITH(config_with(1.0f, 2).validate(), Catch::Contains("threshold"));
  CHECK_THROWS_WITH(config_with(std::numeric_limits<float>::quiet_NaN(), 2).validate(),
                    Catch::Contains("threshold"));
  CHECK_THROWS_WITH(config_with(0.5f, 0).validate(), Catch::Contains("minimum run"));
  CHECK_THROWS_WITH(config_with(0.5f, 2, 0).validate(), Catch::Contains("smoothing"));
  CHECK_THROWS_WITH(config_with(0.5f, 2, 1, -1.0).validate(), Catch::Contains("refractory"));
  CHECK_THROWS_AS(EventPostProcessor(config_with(0.5f, 2), 0.0), earshot::Error);
}

// ---- Sensitivity -----------------------------------------------------------------------------

TEST_CASE("sensitivity 0.5 gives the model's default threshold, 1 and 0 the extremes") {
  CHECK(DetectorConfig::threshold_for_sensitivity(0.5f, 0.7f) == 0.7f);
  CHECK(DetectorConfig::threshold_for_sensitivity(1.0f, 0.7f) == Approx(0.001).margin(1e-6));
  CHECK(DetectorConfig::threshold_for_sensitivity(0.0f, 0.7f) == Approx(0.999).margin(1e-6));
  CHECK(DetectorConfig::threshold_for_sensitivity(0.75f, 0.5f) == Approx(0.2505f));
  CHECK(DetectorConfig::threshold_for_sensitivity(0.25f, 0.5f) == Approx(0.7495f));
}

TEST_CASE("a higher sensitivity never gives a higher threshold") {
  float previous = 1.0f;
  for (int i = 0; i <= 100; ++i) {
    const float threshold = DetectorConfig::threshold_for_sensitivity(i / 100.0f, 0.3f);
    CHECK(threshold <= previous);
    CHECK(threshold > 0.0f);
    CHECK(threshold < 1.0f);
    previous = threshold;
  }
}

TEST_CASE("a sensitivity outside [0, 1] is rejected") {
  CHECK_THROWS_WITH(DetectorConfig::threshold_for_sensitivity(1.5f, 0.5f),
                    Catch::Contains("sensitivity"));
  CHECK_THROWS_WITH(DetectorConfig::threshold_for_sensitivity(-0.1f, 0.5f),
                    Catch::Contains("sensitivity"));
}

TEST_CASE("for_model takes the model's default threshold") {
  CHECK(DetectorConfig::for_model(*band_energy_model()).threshold ==
        band_energy_model()->metadata().default_threshold);
}

// ---- The detector on audio -------------------------------------------------------------------

TEST_CASE("silence gives no event and probabilities far below the threshold") {
  Detector detector(band_energy_model(), config_with(0.5f, 2));
  const std::vector<float> silence(3 * 16000, 0.0f);
  const DetectorOutput out = run_in_chunks(detector, silence, 16000);
  CHECK(out.events.empty());
  REQUIRE_FALSE(out.steps.empty());
  for (const StepProbability& step : out.steps)
    CHECK(step.probability < 0.01f);
}

TEST_CASE("one output step per stride frames, at nominal times j * output_step_s") {
  const auto model = band_energy_model();
  Detector detector(model, config_with(0.5f, 2));
  const std::vector<float> audio(16000, 0.0f);  // 98 frames -> 1 + (98 - 3) / 2 = 48 steps
  const DetectorOutput out = run_in_chunks(detector, audio, 1000);
  REQUIRE(out.steps.size() == 48);
  CHECK(model->output_step_s() == Approx(0.02));
  for (std::size_t j = 0; j < out.steps.size(); ++j) {
    CHECK(out.steps[j].time_s == Approx(0.02 * static_cast<double>(j)).margin(1e-12));
  }
  CHECK(detector.audio_s() == 1.0);
}

TEST_CASE("a tone burst fires one event when the evidence arrives, with the word span before") {
  const auto model = band_energy_model();
  Detector detector(model, config_with(0.5f, 3));
  const std::vector<float> audio = tone_burst(3.0, 1.0, 1.6);
  const DetectorOutput out = run_in_chunks(detector, audio, 160);
  REQUIRE(out.events.size() == 1);
  const Detection& event = out.events[0];
  const std::size_t j0 = first_step_above(out.steps, 0.5f);

  CHECK(event.keyword == "activate");
  // Fired on the 3rd step of the run, when that step's last sample had arrived.
  CHECK(event.time_s == step_available_s(*model, j0 + 2));
  // The word ended just before the first step above threshold: half a step earlier.
  CHECK(event.end_s == Approx(out.steps[j0].time_s - 0.01));
  CHECK(event.start_s == Approx(event.end_s - earshot::kDefaultWordDuration_s));
  CHECK(event.score ==
        std::max({out.steps[j0].smoothed, out.steps[j0 + 1].smoothed, out.steps[j0 + 2].smoothed}));
  // And all of it where the tone is: the energy model sees the burst start at 1.0 s.
  CHECK(event.time_s > 1.0);
  CHECK(event.time_s < 1.0 + model->receptive_field_s() + 3 * model->output_step_s());
}

TEST_CASE("the word duration comes from the model's mean_trigger_duration_s when present") {
  const auto model = band_energy_model({{"mean_trigger_duration_s", 0.8}});
  Detector detector(model, config_with(0.5f, 2));
  CHECK(detector.word_duration_s() == 0.8);
  const DetectorOutput out = run_in_chunks(detector, tone_burst(3.0, 1.5, 2.0), 16000);
  REQUIRE(out.events.size() == 1);
  CHECK(out.events[0].start_s == Approx(out.events[0].end_s - 0.8));
  Detector without(band_energy_model({{"mean_trigger_duration_s", "long"}}), config_with(0.5f, 2));
  CHECK(without.word_duration_s() == earshot::kDefaultWordDuration_s);
}

TEST_CASE("smoothing moves the word end back by the half window the mean lags behind") {
  const auto model = band_energy_model();
  Detector detector(model, config_with(0.5f, 2, 5));
  const DetectorOutput out = run_in_chunks(detector, tone_burst(3.0, 1.0, 1.6), 4000);
  REQUIRE(out.events.size() == 1);
  const std::size_t j0 = first_step_above(out.steps, 0.5f);
  // (5 - 1) / 2 = 2 steps of lag, then half a step.
  CHECK(out.events[0].end_s == Approx(out.steps[j0].time_s - 2.5 * model->output_step_s()));
}

TEST_CASE("word span estimates never go below 0 s") {
  Detector detector(band_energy_model(), config_with(0.5f, 1));
  const DetectorOutput out = run_in_chunks(detector, tone_burst(2.0, 0.0, 0.5), 16000);
  REQUIRE(out.events.size() == 1);
  CHECK(out.events[0].start_s == 0.0);
  CHECK(out.events[0].end_s >= 0.0);
}

TEST_CASE("bursts closer than the refractory period give one event, farther ones two") {
  const std::vector<float> first = tone_burst(2.0, 0.5, 0.9);
  std::vector<float> audio = first;
  const std::vector<float> second = tone_burst(4.0, 0.0, 0.4);
  audio.insert(audio.end(), second.begin(), second.end());  // bursts start 1.5 s apart
  Detector long_refractory(band_energy_model(), config_with(0.5f, 2, 1, 2.0));
  CHECK(run_in_chunks(long_refractory, audio, 16000).events.size() == 1);
  Detector short_refractory(band_energy_model(), config_with(0.5f, 2, 1, 1.0));
  CHECK(run_in_chunks(short_refractory, audio, 16000).events.size() == 2);
}

TEST_CASE("events and step probabilities are identical for any chunking") {
  const std::vector<float> audio = [] {
    std::vector<float> a = tone_burst(4.0, 0.7, 1.3);
    const std::vector<float> b = tone_burst(3.0, 1.0, 1.8, kToneHz, 0.1);
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }();
  // The PCEN model also checks that the front end's running average follows the stream.
  for (const auto& model :
       {band_energy_model(), random_model(8), random_model(8, {}, Compression::kPcen)}) {
    Detector detector(model, config_with(0.5f, 2, 3, 0.5));
    const DetectorOutput whole = run_in_chunks(detector, audio, audio.size());
    REQUIRE(whole.steps.size() > 100);
    for (const std::size_t chunk : {1, 7, 160, 1000, 16000}) {
      INFO("chunk of " << chunk << " samples");
      const DetectorOutput chunked = run_in_chunks(detector, audio, chunk);
      CHECK(chunked.events == whole.events);
      CHECK(chunked.steps == whole.steps);
    }
  }
  Detector detector(band_energy_model(), config_with(0.5f, 2, 3, 0.5));
  CHECK(run_in_chunks(detector, audio, audio.size()).events.size() == 2);
}

TEST_CASE("the random models' probabilities vary, so chunking invariance is not vacuous") {
  for (const Compression compression : {Compression::kLog, Compression::kPcen}) {
    Detector detector(random_model(8, {}, compression), config_with(0.5f, 2));
    const DetectorOutput out = run_in_chunks(detector, tone_burst(3.0, 0.5, 2.0), 16000);
    const auto [low, high] = std::minmax_element(
        out.steps.begin(), out.steps.end(), [](const StepProbability& a, const StepProbability& b) {
          return a.probability < b.probability;
        });
    INFO(earshot::compression_name(compression));
    CHECK(high->probability - low->probability > 0.3f);
  }
}

TEST_CASE("reset starts a new stream: the same audio gives the same output again") {
  Detector detector(band_energy_model(), config_with(0.5f, 2));
  const std::vector<float> audio = tone_burst(2.0, 0.5, 1.0);
  const DetectorOutput first = run_in_chunks(detector, audio, 16000);
  const DetectorOutput second = run_in_chunks(detector, audio, 16000);
  CHECK(second.events == first.events);
  CHECK(second.steps == first.steps);
  CHECK(detector.audio_s() == 2.0);
}

TEST_CASE("a NaN sample is rejected and consumes nothing") {
  Detector detector(band_energy_model(), config_with(0.5f, 2));
  std::vector<Detection> events;
  std::vector<float> bad(1000, 0.0f);
  bad[500] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_AS(detector.accept_waveform(bad, events), earshot::Error);
  CHECK(detector.audio_s() == 0.0);
}

TEST_CASE("a warm detector allocates nothing while outputs fit their vectors' capacity") {
  Detector detector(band_energy_model(), config_with(0.5f, 2, 3, 0.5));
  const std::vector<float> audio = tone_burst(4.0, 1.0, 1.5);
  std::vector<Detection> events;
  std::vector<StepProbability> steps;
  events.reserve(16);
  steps.reserve(1000);
  const std::span<const float> all(audio);
  detector.accept_waveform(all.first(16000), events, &steps);  // warms up the buffers
  const long before = earshot::testing::heap_allocations();
  for (std::size_t start = 16000; start < audio.size(); start += 160) {
    detector.accept_waveform(all.subspan(start, 160), events, &steps);
  }
  CHECK(earshot::testing::heap_allocations() == before);
  CHECK(events.size() == 1);  // the event was pushed on the measured path
}

TEST_CASE("a detector needs a model") {
  CHECK_THROWS_WITH(Detector(nullptr, DetectorConfig{}), Catch::Contains("no model"));
}

TEST_CASE("a moved detector keeps its stream") {
  Detector detector(band_energy_model(), config_with(0.5f, 2));
  std::vector<Detection> events;
  const std::vector<float> half(8000, 0.0f);
  detector.accept_waveform(half, events);
  Detector moved = std::move(detector);
  CHECK(moved.audio_s() == 0.5);
}

}  // namespace
