// Detector and EventPostProcessor: what happens to the probability of one output step
// (file comment of detector.hpp for the rules and the times an event reports).
#include "earshot/detector.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "earshot/error.hpp"

namespace earshot {

// ---------------------------------------------------------------------------------------------
// DetectorConfig

float DetectorConfig::threshold_for_sensitivity(float sensitivity, float default_threshold) {
  if (!(sensitivity >= 0.0f && sensitivity <= 1.0f)) {
    throw Error(fmt::format("sensitivity must be in [0, 1], got {}", sensitivity));
  }
  if (!(default_threshold > 0.0f && default_threshold < 1.0f)) {
    throw Error(fmt::format("default threshold must be in (0, 1), got {}", default_threshold));
  }
  // The ends stop short of 0 and 1: a threshold of 0 would fire on silence and one of 1
  // never, neither of which anyone asking for "most"/"least" sensitive means.
  constexpr float kMostSensitive = 0.001f;
  constexpr float kLeastSensitive = 0.999f;
  if (sensitivity >= 0.5f) {
    const float toward_most = (sensitivity - 0.5f) * 2.0f;
    return default_threshold + (kMostSensitive - default_threshold) * toward_most;
  }
  const float toward_least = (0.5f - sensitivity) * 2.0f;
  return default_threshold + (kLeastSensitive - default_threshold) * toward_least;
}

DetectorConfig DetectorConfig::for_model(const Model& model) {
  DetectorConfig config;
  config.threshold = model.metadata().default_threshold;
  return config;
}

void DetectorConfig::validate() const {
  if (!(threshold > 0.0f && threshold < 1.0f)) {
    throw Error(fmt::format("detector threshold must be in (0, 1), got {}", threshold));
  }
  if (smoothing_steps < 1) {
    throw Error(fmt::format("detector smoothing must be at least 1 step, got {}", smoothing_steps));
  }
  if (min_steps_above < 1) {
    throw Error(
        fmt::format("detector minimum run must be at least 1 step, got {}", min_steps_above));
  }
  if (!(refractory_s >= 0.0) || !std::isfinite(refractory_s)) {
    throw Error(fmt::format("detector refractory period must be >= 0 s, got {}", refractory_s));
  }
}

// ---------------------------------------------------------------------------------------------
// EventPostProcessor

EventPostProcessor::EventPostProcessor(const DetectorConfig& config, double output_step_s)
    : config_(config) {
  config_.validate();
  if (!(output_step_s > 0.0) || !std::isfinite(output_step_s)) {
    throw Error(
        fmt::format("output step must be a positive number of seconds, got {}", output_step_s));
  }
  // The tolerance keeps e.g. 1.0 s / 0.04 s = 25.000000000000004 from becoming 26 steps.
  refractory_steps_ =
      static_cast<std::uint64_t>(std::ceil(config_.refractory_s / output_step_s - 1e-9));
  recent_.assign(static_cast<std::size_t>(config_.smoothing_steps), 0.0f);
}

float EventPostProcessor::smooth(float probability) {
  const std::size_t window = recent_.size();
  recent_[steps_pushed_ % window] = probability;
  const std::size_t count = static_cast<std::size_t>(
      std::min<std::uint64_t>(steps_pushed_ + 1, static_cast<std::uint64_t>(window)));
  double sum = 0.0;
  for (std::size_t i = 0; i < count; ++i)
    sum += recent_[i];
  return static_cast<float>(sum / static_cast<double>(count));
}

std::optional<FiredRun> EventPostProcessor::push(float probability) {
  const std::uint64_t step = steps_pushed_;
  last_smoothed_ = smooth(probability);
  ++steps_pushed_;
  if (!(last_smoothed_ >= config_.threshold)) {
    run_length_ = 0;
    run_peak_ = 0.0f;
    return std::nullopt;
  }
  ++run_length_;
  run_peak_ = std::max(run_peak_, last_smoothed_);
  if (run_length_ != static_cast<std::uint64_t>(config_.min_steps_above)) return std::nullopt;
  if (last_fire_step_ && step - *last_fire_step_ < refractory_steps_) return std::nullopt;
  last_fire_step_ = step;
  return FiredRun{step + 1 - run_length_, step, run_peak_};
}

void EventPostProcessor::reset() {
  std::fill(recent_.begin(), recent_.end(), 0.0f);
  steps_pushed_ = 0;
  last_smoothed_ = 0.0f;
  run_length_ = 0;
  run_peak_ = 0.0f;
  last_fire_step_.reset();
}

// ---------------------------------------------------------------------------------------------
// Detector

namespace {

double word_duration_from(const Model& model) {
  const nlohmann::json& provenance = model.metadata().provenance;
  if (provenance.is_object()) {
    const auto found = provenance.find("mean_trigger_duration_s");
    if (found != provenance.end() && found->is_number()) {
      const double duration_s = found->get<double>();
      if (std::isfinite(duration_s) && duration_s > 0.0) return duration_s;
    }
  }
  return kDefaultWordDuration_s;
}

}  // namespace

struct Detector::Impl {
  Impl(std::shared_ptr<const Model> shared_model, const DetectorConfig& detector_config)
      : model(std::move(shared_model)),
        config(detector_config),
        frontend(model->metadata().frontend),
        stream(model),
        post(config, model->output_step_s()),
        frame(static_cast<std::size_t>(model->feature_dim())),
        keyword(model->metadata().keywords.empty() ? std::string()
                                                   : model->metadata().keywords.front()),
        word_duration_s(word_duration_from(*model)) {}

  // Nominal time of step j, from integers so it is exact to one rounding.
  double step_time_s(std::uint64_t step) const {
    const ModelShape& shape = model->shape();
    const FrontEndConfig& fe = model->metadata().frontend;
    return static_cast<double>(step * static_cast<std::uint64_t>(shape.conv_stride) *
                               static_cast<std::uint64_t>(fe.hop_samples)) /
           fe.sample_rate;
  }

  // When step j became available: the stream position just after the last sample of its
  // last frame, frame j * stride + kernel - 1.
  double step_available_s(std::uint64_t step) const {
    const ModelShape& shape = model->shape();
    const FrontEndConfig& fe = model->metadata().frontend;
    const std::uint64_t last_frame = step * static_cast<std::uint64_t>(shape.conv_stride) +
                                     static_cast<std::uint64_t>(shape.conv_kernel) - 1;
    return static_cast<double>(last_frame * static_cast<std::uint64_t>(fe.hop_samples) +
                               static_cast<std::uint64_t>(fe.window_samples)) /
           fe.sample_rate;
  }

  Detection make_detection(const FiredRun& run) const {
    const double step_s = model->output_step_s();
    const double smoothing_lag_steps = (config.smoothing_steps - 1) / 2.0;
    const double end_s = std::max(
        0.0, (static_cast<double>(run.first_step) - smoothing_lag_steps) * step_s - step_s / 2);
    Detection detection;
    detection.keyword = keyword;
    detection.time_s = step_available_s(run.fire_step);
    detection.end_s = end_s;
    detection.start_s = std::max(0.0, end_s - word_duration_s);
    detection.score = run.peak_smoothed;
    return detection;
  }

  void on_frame(std::vector<Detection>& events, std::vector<StepProbability>* steps) {
    const std::optional<float> probability = stream.push(frame);
    if (!probability) return;
    const std::uint64_t step = stream.outputs_emitted() - 1;
    const std::optional<FiredRun> fired = post.push(*probability);
    if (steps) steps->push_back({step_time_s(step), *probability, post.last_smoothed()});
    if (fired) events.push_back(make_detection(*fired));
  }

  std::shared_ptr<const Model> model;
  DetectorConfig config;
  FrontEnd frontend;
  ModelStream stream;
  EventPostProcessor post;
  std::vector<float> frame;
  std::string keyword;
  double word_duration_s;
  std::uint64_t samples_consumed = 0;
};

namespace {

std::shared_ptr<const Model> require_model(std::shared_ptr<const Model> model) {
  if (!model) throw Error("Detector: no model given");
  return model;
}

}  // namespace

Detector::Detector(std::shared_ptr<const Model> model, DetectorConfig config)
    : impl_(std::make_unique<Impl>(require_model(std::move(model)), config)) {}

Detector::~Detector() = default;
Detector::Detector(Detector&&) noexcept = default;
Detector& Detector::operator=(Detector&&) noexcept = default;

void Detector::accept_waveform(std::span<const float> samples, std::vector<Detection>& events,
                               std::vector<StepProbability>* steps) {
  impl_->frontend.accept_waveform(samples);
  impl_->samples_consumed += samples.size();
  while (impl_->frontend.pop_frame(impl_->frame))
    impl_->on_frame(events, steps);
}

void Detector::reset() {
  impl_->frontend.reset();
  impl_->stream.reset();
  impl_->post.reset();
  impl_->samples_consumed = 0;
}

const Model& Detector::model() const {
  return *impl_->model;
}
const DetectorConfig& Detector::config() const {
  return impl_->config;
}

double Detector::audio_s() const {
  return static_cast<double>(impl_->samples_consumed) /
         impl_->model->metadata().frontend.sample_rate;
}

double Detector::word_duration_s() const {
  return impl_->word_duration_s;
}

}  // namespace earshot
