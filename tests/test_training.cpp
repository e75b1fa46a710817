// Training: a tiny model learns a synthetic sequence task, training is deterministic, its
// checkpoints run in the streaming model, and the pieces around it (metrics, splits,
// optimizer, schedule, data loading, `earshot train`) do what train.hpp says.
#include <fmt/format.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <numbers>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "command_helpers.hpp"
#include "earshot/audio_io.hpp"
#include "earshot/error.hpp"
#include "earshot/model_file.hpp"
#include "earshot/train.hpp"
#include "earshot/train_network.hpp"
#include "earshot/train_optimizer.hpp"

using namespace earshot;
namespace fs = std::filesystem;

namespace {

fs::path scratch_dir(const std::string& name) {
  const fs::path dir = fs::path(EARSHOT_TEST_TMP) / "training" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

double uniform01(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

// ---- The synthetic task ---------------------------------------------------------------------
// Frames of 8 random values in [-1, 1]. A "tone" is 4 frames with feature 2 raised by 3;
// a "distractor" raises feature 5 the same way. The model (kernel 3, stride 1, so output j
// reads frames j..j+2) must output 1 on the 5 steps after each tone has passed and 0
// elsewhere, distractors included: labels are steps b+2 .. b+6 for a tone starting at frame b.

constexpr int kTaskFeatures = 8;
constexpr std::size_t kTaskFrames = 200;
constexpr int kToneFrames = 4;
constexpr int kLabelSteps = 5;

ModelShape task_shape() {
  ModelShape shape;
  shape.feature_dim = kTaskFeatures;
  shape.conv_filters = 8;
  shape.conv_kernel = 3;
  shape.conv_stride = 1;
  shape.gru_sizes = {16};
  return shape;
}

FrontEndConfig task_frontend() {
  FrontEndConfig frontend;  // hop 10 ms: with stride 1 an output step is 10 ms
  frontend.num_mel_bands = kTaskFeatures;
  return frontend;
}

struct TaskClip {
  TrainingClip clip;
  std::vector<std::size_t> tone_starts;  // frames
};

TaskClip task_clip(std::mt19937_64& rng, std::size_t index) {
  TaskClip task;
  TrainingClip& clip = task.clip;
  clip.dataset_dir = "synthetic";
  clip.record.index = index;
  clip.record.file = "none";
  clip.num_frames = kTaskFrames;
  clip.record.duration_s = kTaskFrames * 0.01;
  clip.features.resize(kTaskFrames * kTaskFeatures);
  for (float& v : clip.features)
    v = static_cast<float>(2.0 * uniform01(rng) - 1.0);
  // Five events at least 30 frames apart: three tones and two distractors, in random order.
  std::vector<int> kinds = {1, 1, 1, 0, 0};
  std::shuffle(kinds.begin(), kinds.end(), rng);
  const double step_s = 0.01;
  for (std::size_t e = 0; e < kinds.size(); ++e) {
    const auto start = static_cast<std::size_t>(5 + 36 * e + static_cast<int>(uniform01(rng) * 6));
    const int feature = kinds[e] == 1 ? 2 : 5;
    for (int f = 0; f < kToneFrames; ++f)
      clip.features[(start + f) * kTaskFeatures + feature] += 3;
    InsertedWord word;
    word.kind = kinds[e] == 1 ? WordKind::kTrigger : WordKind::kNegative;
    word.start_s = static_cast<double>(start) * step_s;
    // Labels are steps k with end_s < k * step_s <= end_s + 0.05: steps b+2 .. b+6.
    word.end_s = (static_cast<double>(start) + 1.5) * step_s;
    clip.record.words.push_back(word);
    if (kinds[e] == 1) task.tone_starts.push_back(start);
  }
  return task;
}

std::vector<TaskClip> task_clips(std::size_t count, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<TaskClip> clips;
  for (std::size_t i = 0; i < count; ++i)
    clips.push_back(task_clip(rng, i));
  return clips;
}

std::vector<TrainingClip> just_clips(const std::vector<TaskClip>& tasks) {
  std::vector<TrainingClip> clips;
  for (const auto& t : tasks)
    clips.push_back(t.clip);
  return clips;
}

TrainingOptions task_options() {
  TrainingOptions options;
  options.frontend = task_frontend();
  options.shape = task_shape();
  options.label_window_s = kLabelSteps * 0.01;
  options.epochs = 25;
  options.batch_size = 8;
  options.learning_rate = 0.02;
  options.warmup_epochs = 1;
  options.positive_weight = 2.0;
  options.dropout = 0.0;
  options.patience = 0;
  options.seed = 7;
  options.threads = 2;
  options.detection_slack_s = 0.0;
  return options;
}

}  // namespace

TEST_CASE("a tiny model learns to flag the 5 steps after each tone and ignore distractors",
          "[training]") {
  const auto training = task_clips(48, 1);
  const auto validation = task_clips(8, 2);
  const TrainingResult result =
      train_model(just_clips(training), just_clips(validation), task_options());

  const auto test = task_clips(20, 3);
  std::size_t tones = 0, detected = 0, negative_steps = 0, false_positive_steps = 0;
  for (const TaskClip& t : test) {
    const auto p = result.model.forward(t.clip.features, t.clip.num_frames);
    std::vector<int> label(p.size(), 0);  // 1 labelled, 2 within one step of a labelled run
    for (const std::size_t b : t.tone_starts) {
      for (std::size_t k = b + 1; k <= b + 2 + kLabelSteps; ++k)
        label[k] = 2;
      bool hit = false;
      for (std::size_t k = b + 2; k < b + 2 + kLabelSteps; ++k) {
        label[k] = 1;
        hit = hit || p[k] >= 0.5f;
      }
      ++tones;
      detected += hit;
    }
    for (std::size_t k = 0; k < p.size(); ++k) {
      if (label[k] != 0) continue;
      ++negative_steps;
      false_positive_steps += p[k] >= 0.5f;
    }
  }
  INFO("detected " << detected << " of " << tones << " tones; false positive steps "
                   << false_positive_steps << " of " << negative_steps);
  CHECK(static_cast<double>(detected) / tones >= 0.95);
  CHECK(static_cast<double>(false_positive_steps) / negative_steps < 0.02);
  CHECK(result.history.back().validation_miss_rate <= 0.05);
}

TEST_CASE("training is bit-for-bit reproducible across runs and thread counts", "[training]") {
  const auto training = just_clips(task_clips(12, 4));
  const auto validation = just_clips(task_clips(4, 5));
  TrainingOptions options = task_options();
  options.epochs = 2;
  options.batch_size = 4;
  options.dropout = 0.3;
  options.threads = 1;
  const TrainingResult one = train_model(training, validation, options);
  options.threads = 2;
  const TrainingResult two = train_model(training, validation, options);
  const auto a = model_tensors(one.model);
  const auto b = model_tensors(two.model);
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    CHECK(a[i].values == b[i].values);
  CHECK(one.history.back().train_loss == two.history.back().train_loss);

  options.seed = 8;
  const TrainingResult other_seed = train_model(training, validation, options);
  CHECK(model_tensors(other_seed.model)[2].values != a[2].values);
}

TEST_CASE(
    "warps, focal loss, weight averaging and a teacher reach training: other weights, the same per "
    "seed",
    "[training]") {
  const auto training = just_clips(task_clips(12, 4));
  TrainingOptions options = task_options();
  options.epochs = 2;
  options.batch_size = 4;
  const auto plain = model_tensors(train_model(training, {}, options).model);
  SECTION("frequency warp") {
    options.frequency_warp.max_deviation = 0.2;
  }
  SECTION("focal loss") {
    options.focal_gamma = 2.0;
  }
  SECTION("time warp") {
    options.time_warp.max_tempo_deviation = 0.3;
  }
  SECTION("weight average") {
    options.weight_average_decay = 0.9;
  }
  SECTION("distillation from a teacher") {
    options.distillation.teacher = std::make_shared<const Model>(
        train_model(just_clips(task_clips(12, 40)), {}, options).model);
  }
  const auto changed = model_tensors(train_model(training, {}, options).model);
  const auto again = model_tensors(train_model(training, {}, options).model);
  CHECK(changed[2].values != plain[2].values);
  for (std::size_t i = 0; i < changed.size(); ++i)
    CHECK(changed[i].values == again[i].values);
}

TEST_CASE("the best checkpoint runs in the streaming model like the returned model", "[training]") {
  const fs::path dir = scratch_dir("checkpoint");
  TrainingOptions options = task_options();
  options.epochs = 3;
  options.checkpoint_path = dir / "best.earshot";
  options.log_path = dir / "log.csv";
  options.provenance = {{"command", "test"}};
  const auto training = just_clips(task_clips(8, 6));
  const auto validation = just_clips(task_clips(4, 7));
  const TrainingResult result = train_model(training, validation, options);

  const auto loaded = std::make_shared<const Model>(load_model(options.checkpoint_path));
  CHECK(loaded->metadata().provenance["command"] == "test");
  CHECK(loaded->metadata().provenance["training"]["best_epoch"]["epoch"] == result.best_epoch);
  const TaskClip probe = task_clips(1, 8).front();
  const auto expected = result.model.forward(probe.clip.features, probe.clip.num_frames);
  ModelStream stream(loaded);
  std::size_t k = 0;
  double worst = 0;
  for (std::size_t f = 0; f < probe.clip.num_frames; ++f) {
    const auto p =
        stream.push(std::span(probe.clip.features).subspan(f * kTaskFeatures, kTaskFeatures));
    if (p) worst = std::max(worst, std::abs(static_cast<double>(*p) - expected.at(k++)));
  }
  CHECK(k == expected.size());
  CHECK(worst < 1e-5);
}

TEST_CASE("the CSV log has a header and one row per epoch", "[training]") {
  const fs::path dir = scratch_dir("csv");
  TrainingOptions options = task_options();
  options.epochs = 2;
  options.log_path = dir / "log.csv";
  train_model(just_clips(task_clips(4, 9)), just_clips(task_clips(2, 10)), options);
  std::ifstream in(options.log_path);
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(in, line))
    lines.push_back(line);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] ==
        "epoch,train_loss,val_loss,val_miss_rate,val_false_alarms_per_hour,learning_rate,seconds");
  CHECK(lines[1].starts_with("1,"));
  CHECK(lines[2].starts_with("2,"));
}

TEST_CASE("exporting folds BatchNorm: the float model equals the network in inference mode",
          "[training]") {
  const ModelShape shape = task_shape();
  const std::vector<float> mean(kTaskFeatures, 0.2f), deviation(kTaskFeatures, 1.3f);
  train::TrainingNetwork<double> network(shape, mean, deviation, 1);
  const Eigen::VectorXd parameters =
      train::initial_parameters<double>(network.layout(), 5) +
      Eigen::VectorXd::Constant(network.layout().num_parameters(), 0.05);
  train::BatchNormRunningStats running;
  running.reset(shape.conv_filters);
  running.mean.setConstant(0.3);
  running.variance.setConstant(2.5);
  ModelMetadata metadata;
  metadata.frontend = task_frontend();
  metadata.shape = shape;
  metadata.feature_mean = mean;
  metadata.feature_std = deviation;
  const Model model = train::export_model(network.layout(), parameters, running, metadata);
  const TaskClip probe = task_clips(1, 11).front();
  const Eigen::VectorXd expected = network.predict(parameters, running, probe.clip.features);
  const auto actual = model.forward(probe.clip.features, probe.clip.num_frames);
  REQUIRE(static_cast<Eigen::Index>(actual.size()) == expected.size());
  for (std::size_t k = 0; k < actual.size(); ++k)
    CHECK(actual[k] == Approx(expected(k)).margin(1e-5));
}

TEST_CASE("distillation targets move the labels towards the teacher's probabilities by its weight",
          "[training]") {
  TrainingOptions options = task_options();
  options.epochs = 2;
  const auto teacher =
      std::make_shared<const Model>(train_model(just_clips(task_clips(8, 41)), {}, options).model);
  const TaskClip probe = task_clips(1, 42).front();
  const auto taught = teacher->forward(probe.clip.features, probe.clip.num_frames);
  REQUIRE(taught.size() == options.shape.num_outputs(probe.clip.num_frames));
  std::vector<float> labels(taught.size(), 0.0f);
  for (std::size_t k = 0; k < labels.size(); k += 3)
    labels[k] = 1.0f;

  train::Distillation distillation{teacher, 0.25};
  std::vector<float> targets = labels;
  train::blend_teacher_targets(distillation, probe.clip.features, probe.clip.num_frames, targets);
  for (std::size_t k = 0; k < targets.size(); ++k)
    CHECK(targets[k] == Approx(0.75 * labels[k] + 0.25 * taught[k]));

  SECTION("weight 1: the teacher alone; weight 0 or no teacher: the labels alone") {
    distillation.teacher_weight = 1.0;
    targets = labels;
    train::blend_teacher_targets(distillation, probe.clip.features, probe.clip.num_frames, targets);
    CHECK(targets == taught);
    distillation.teacher_weight = 0.0;
    targets = labels;
    train::blend_teacher_targets(distillation, probe.clip.features, probe.clip.num_frames, targets);
    CHECK(targets == labels);
    targets = labels;
    train::blend_teacher_targets(train::Distillation{}, probe.clip.features, probe.clip.num_frames,
                                 targets);
    CHECK(targets == labels);
  }
  SECTION("a teacher that gives another number of steps is refused") {
    targets.push_back(0.0f);
    CHECK_THROWS_WITH(train::blend_teacher_targets(distillation, probe.clip.features,
                                                   probe.clip.num_frames, targets),
                      Catch::Contains("the teacher gives"));
  }
}

TEST_CASE("a teacher must read the same features and answer on the same steps", "[training]") {
  TrainingOptions options = task_options();
  options.epochs = 1;
  const auto teacher =
      std::make_shared<const Model>(train_model(just_clips(task_clips(4, 43)), {}, options).model);
  options.distillation.teacher = teacher;
  CHECK_NOTHROW(options.validate());
  options.shape.gru_sizes = {8, 8};  // another network is fine: only the steps must agree
  CHECK_NOTHROW(options.validate());
  options.distillation.teacher_weight = 1.5;
  CHECK_THROWS_WITH(options.validate(), Catch::Contains("teacher weight must be in [0, 1]"));
  options = task_options();
  options.distillation.teacher = teacher;
  options.shape.conv_stride = 2;
  CHECK_THROWS_WITH(options.validate(), Catch::Contains("other steps"));
  options = task_options();
  options.distillation.teacher = teacher;
  options.frontend.hop_samples = 320;
  CHECK_THROWS_WITH(options.validate(), Catch::Contains("other features"));
}

TEST_CASE("training refuses options out of range and data too short for one output", "[training]") {
  TrainingOptions options = task_options();
  options.shape.feature_dim = 9;
  CHECK_THROWS_WITH(options.validate(), Catch::Contains("takes 9 features per frame"));
  options = task_options();
  options.dropout = 1.0;
  CHECK_THROWS_WITH(options.validate(), Catch::Contains("dropout must be in [0, 1)"));
  options = task_options();
  options.frequency_warp.max_deviation = 0.5;
  CHECK_THROWS_WITH(options.validate(), Catch::Contains("frequency warp"));
  options = task_options();
  options.focal_gamma = -1.0;
  CHECK_THROWS_WITH(options.validate(), Catch::Contains("focal gamma must be in [0, 5]"));
  options.focal_gamma = 6.0;
  CHECK_THROWS_WITH(options.validate(), Catch::Contains("focal gamma must be in [0, 5]"));
  options = task_options();
  options.time_warp.max_tempo_deviation = 0.5;
  CHECK_THROWS_WITH(options.validate(), Catch::Contains("time warp"));
  options = task_options();
  options.weight_average_decay = 1.0;
  CHECK_THROWS_WITH(options.validate(), Catch::Contains("weight average decay must be in [0, 1)"));
  options = task_options();
  options.checkpoint_path = "/no/such/dir/model.earshot";
  CHECK_THROWS_WITH(options.validate(), Catch::Contains("does not exist"));
  auto clips = just_clips(task_clips(1, 12));
  clips[0].num_frames = 2;
  clips[0].features.resize(2 * kTaskFeatures);
  CHECK_THROWS_WITH(train_model(clips, {}, task_options()),
                    Catch::Contains("no training clip is long enough"));
}

TEST_CASE(
    "a word is missed without an output >= threshold in its window, and other rising "
    "edges are false alarms",
    "[metrics]") {
  // Step 0.1 s; trigger ending at 1.0 s, label window 0.3 s, slack 0.1 s: window [0.9, 1.4].
  // A second trigger ends at 3.0 s: window [2.9, 3.4], never reached.
  std::vector<InsertedWord> words(3);
  words[0].end_s = 1.0;
  words[1].end_s = 3.0;
  words[2].kind = WordKind::kNegative;
  words[2].end_s = 2.0;
  std::vector<float> p(40, 0.1f);
  p[12] = p[13] = 0.9f;          // 1.2-1.3 s: inside the first window, one edge
  p[20] = 0.7f;                  // 2.0 s: a false alarm
  p[25] = p[26] = p[28] = 0.6f;  // two more edges: 2.5 s and 2.8 s
  const DetectionMetrics m = score_detections(p, 0.1, words, 7200.0, {0.5, 0.3, 0.1});
  CHECK(m.trigger_words == 2);
  CHECK(m.missed_words == 1);
  CHECK(m.miss_rate() == Approx(0.5));
  CHECK(m.false_alarms == 3);
  CHECK(m.false_alarms_per_hour() == Approx(1.5));
}

TEST_CASE("split_clips follows any predicate, e.g. a held-out voice", "[data]") {
  std::vector<TrainingClip> clips(4);
  const char* voices[] = {"slt", "kal", "slt", "awb"};
  for (std::size_t i = 0; i < 4; ++i) {
    clips[i].record.index = i;
    clips[i].record.words.push_back({WordKind::kTrigger, "w.wav", voices[i], 0, 1, 10});
  }
  const ClipSplit split = split_clips(clips, [](const TrainingClip& c) {
    return std::any_of(c.record.words.begin(), c.record.words.end(),
                       [](const InsertedWord& w) { return w.voice == "slt"; });
  });
  REQUIRE(split.validation.size() == 2);
  CHECK(split.validation[0].record.index == 0);
  CHECK(split.validation[1].record.index == 2);
  CHECK(split.training.size() == 2);
}

TEST_CASE("random_fraction picks about the fraction, by clip identity not position", "[data]") {
  const ClipPredicate pick = random_fraction(0.2, 42);
  std::vector<TrainingClip> clips(2000);
  std::size_t picked = 0;
  for (std::size_t i = 0; i < clips.size(); ++i) {
    clips[i].dataset_dir = "data/set-a";
    clips[i].record.index = i;
    picked += pick(clips[i]);
  }
  CHECK(static_cast<double>(picked) / clips.size() == Approx(0.2).margin(0.03));
  // The same clip spelled differently lands on the same side, picked or not.
  const auto first_picked = std::find_if(clips.begin(), clips.end(), pick);
  const auto first_unpicked = std::find_if_not(clips.begin(), clips.end(), pick);
  REQUIRE(first_picked != clips.end());
  REQUIRE(first_unpicked != clips.end());
  for (TrainingClip same : {*first_picked, *first_unpicked}) {
    const bool expected = pick(same);
    same.dataset_dir = "./data/set-a/";
    CHECK(pick(same) == expected);
  }
  CHECK_THROWS_AS(random_fraction(1.5, 1), Error);
}

TEST_CASE("feature statistics are the per-dimension mean and deviation over all frames", "[data]") {
  std::vector<TrainingClip> clips(2);
  clips[0].features = {1, 10, 3, 10};  // frames (1, 10), (3, 10)
  clips[0].num_frames = 2;
  clips[1].features = {5, 10};
  clips[1].num_frames = 1;
  const FeatureStatistics stats = feature_statistics(clips, 2);
  CHECK(stats.mean[0] == Approx(3.0));
  CHECK(stats.std[0] == Approx(std::sqrt(8.0 / 3.0)));
  CHECK(stats.mean[1] == Approx(10.0));
  CHECK(stats.std[1] == Approx(1e-3));  // constant feature: floored
}

TEST_CASE("the learning rate warms up linearly, then decays by cosine to the floor",
          "[optimizer]") {
  const train::LearningRateSchedule schedule{0.01, 10, 110, 0.1};
  CHECK(schedule.at(0) == Approx(0.001));
  CHECK(schedule.at(4) == Approx(0.005));
  CHECK(schedule.at(10) == Approx(0.01));
  CHECK(schedule.at(60) == Approx(0.01 * (0.1 + 0.9 * 0.5)));
  CHECK(schedule.at(110) == Approx(0.001));
  CHECK(schedule.at(500) == Approx(0.001));
}

TEST_CASE("Adam minimises a badly scaled quadratic", "[optimizer]") {
  // f(x) = sum_i s_i (x_i - 1)^2 with scales 1000 apart.
  Eigen::VectorXf x = Eigen::VectorXf::Zero(3);
  const Eigen::Vector3f scale(0.01f, 1.0f, 10.0f);
  train::AdamOptimizer adam(3);
  for (int step = 0; step < 2000; ++step) {
    const Eigen::VectorXf gradient = 2.0f * scale.cwiseProduct(x - Eigen::VectorXf::Ones(3));
    adam.step(x, gradient, 0.01);
  }
  CHECK(adam.steps_taken() == 2000);
  CHECK((x - Eigen::VectorXf::Ones(3)).cwiseAbs().maxCoeff() < 0.01f);
}

TEST_CASE("gradient clipping scales to the maximum norm and reports the original", "[optimizer]") {
  Eigen::VectorXf g(2);
  g << 3.0f, 4.0f;
  CHECK(train::clip_gradient_norm(g, 1.0) == Approx(5.0));
  CHECK(g.norm() == Approx(1.0f));
  CHECK(g(0) == Approx(0.6f));
  g << 3.0f, 4.0f;
  train::clip_gradient_norm(g, 10.0);
  CHECK(g(1) == 4.0f);
}

namespace {

// The weight average of one parameter that starts at 0 and then stays at 1 for `updates` steps.
float average_after_step(double decay, int updates) {
  train::WeightAverage average(decay);
  Eigen::VectorXf x = Eigen::VectorXf::Zero(1);
  average.update(x);
  x(0) = 1.0f;
  for (int step = 0; step < updates; ++step)
    average.update(x);
  return average.averaged(x)(0);
}

}  // namespace

TEST_CASE("the weight average follows the parameters, forgetting the start quickly",
          "[optimizer]") {
  SECTION("off, it is the parameters themselves") {
    train::WeightAverage off(0.0);
    Eigen::VectorXf x = Eigen::VectorXf::Constant(2, 3.0f);
    off.update(x);
    x.setConstant(5.0f);
    CHECK(&off.averaged(x) == &x);
  }
  SECTION("parameters that stop moving are reached") {
    CHECK(average_after_step(0.99, 2000) == Approx(1.0f).margin(1e-6));
  }
  SECTION("parameters that jitter around a point average to near it") {
    // Alternating 0 and 2, as weights do around a minimum: the average is near 1.
    train::WeightAverage average(0.99);
    Eigen::VectorXf x(1);
    for (int step = 0; step < 1000; ++step) {
      x(0) = step % 2 == 0 ? 0.0f : 2.0f;
      average.update(x);
    }
    CHECK(average.averaged(x)(0) == Approx(1.0f).margin(0.02));
  }
  SECTION("the start is mostly forgotten after 10 updates") {
    // With a plain decay of 0.999 it would still be 0.01.
    CHECK(average_after_step(0.999, 10) > 0.5f);
  }
}

// ---- Data on disk and the `earshot train` command -------------------------------------------

namespace {

// A dataset in the layout of dataset.hpp: `count` clips of 2 s of noise with one 1 kHz tone
// (the "trigger") each, at a position given by the clip index.
void write_dataset(const fs::path& dir, std::size_t count) {
  fs::create_directories(dir / "clips");
  std::ofstream manifest(dir / "manifest.jsonl");
  std::mt19937_64 rng(count);
  for (std::size_t i = 0; i < count; ++i) {
    std::vector<float> samples(32000);
    for (float& s : samples)
      s = static_cast<float>(0.02 * (2 * uniform01(rng) - 1));
    const double start_s = 0.3 + 0.1 * static_cast<double>(i % 8);
    for (std::size_t n = static_cast<std::size_t>(start_s * 16000); n < (start_s + 0.4) * 16000;
         ++n) {
      samples[n] +=
          0.3f * static_cast<float>(std::sin(2 * std::numbers::pi * 1000.0 * n / 16000.0));
    }
    ClipRecord record;
    record.index = i;
    record.file = fmt::format("clips/{:06d}.wav", i);
    record.duration_s = 2.0;
    record.words.push_back(
        {WordKind::kTrigger, "tone.wav", "synthetic", start_s, start_s + 0.4, 20});
    write_audio(dir / record.file, samples);
    manifest << nlohmann::json(record).dump() << "\n";
  }
}

earshot::testing::CommandResult run_earshot_in(const std::string& arguments, const fs::path& dir) {
  return earshot::testing::run_earshot(arguments, dir / "command_output.txt");
}

}  // namespace

TEST_CASE("loading a dataset skips and reports an unreadable clip", "[data]") {
  const fs::path dir = scratch_dir("load");
  write_dataset(dir / "set", 3);
  std::ofstream(dir / "set" / "clips" / "000001.wav") << "not audio";
  const LoadedClips loaded = load_training_clips({dir / "set"}, FrontEndConfig{}, 2);
  REQUIRE(loaded.clips.size() == 2);
  CHECK(loaded.clips[0].record.index == 0);
  CHECK(loaded.clips[1].record.index == 2);
  CHECK(loaded.clips[0].num_frames == num_frames(32000, FrontEndConfig{}));
  REQUIRE(loaded.skipped.size() == 1);
  CHECK_THAT(loaded.skipped[0], Catch::Contains("000001.wav"));
  CHECK_THROWS_WITH(load_training_clips({dir / "absent"}, FrontEndConfig{}, 1),
                    Catch::Contains("manifest"));
}

TEST_CASE("earshot train writes a loadable model with provenance, a log and progress lines",
          "[cli]") {
  const fs::path dir = scratch_dir("cli");
  write_dataset(dir / "a", 6);
  write_dataset(dir / "b", 4);
  const fs::path model = dir / "tone.earshot";
  const auto r = run_earshot_in(
      fmt::format("train --data '{}' --data '{}' --out '{}' --keyword tone --epochs 2 --batch 4 "
                  "--conv-filters 8 --conv-kernel 5 --conv-stride 4 --gru 8,8 --val-fraction 0.3 "
                  "--seed 3 --log '{}' --threads 2 --freq-warp 0.1 --focal-gamma 2 "
                  "--time-warp 0.3 --weight-average 0.99",
                  (dir / "a").string(), (dir / "b").string(), model.string(),
                  (dir / "log.csv").string()),
      dir);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("epoch 2/2"));
  const Model loaded = load_model(model);
  CHECK(loaded.metadata().keywords == std::vector<std::string>{"tone"});
  CHECK(loaded.shape().gru_sizes == std::vector<int>{8, 8});
  const auto& provenance = loaded.metadata().provenance;
  CHECK(provenance["command_line"].get<std::string>().find("--gru 8,8") != std::string::npos);
  CHECK(provenance["command_line"].get<std::string>().find("--freq-warp 0.1") != std::string::npos);
  CHECK(provenance["command_line"].get<std::string>().find("--focal-gamma 2") != std::string::npos);
  CHECK(provenance["command_line"].get<std::string>().find("--time-warp 0.3") != std::string::npos);
  CHECK(provenance["command_line"].get<std::string>().find("--weight-average 0.99") !=
        std::string::npos);
  CHECK(provenance["data"].size() == 2);
  CHECK(provenance.contains("date"));
  CHECK(provenance["training"].contains("best_epoch"));
  // Every trigger tone in write_dataset lasts 0.4 s; the detector dates word starts with it.
  CHECK(provenance["mean_trigger_duration_s"].get<double>() == Approx(0.4));
  CHECK(fs::exists(dir / "log.csv"));
}

namespace {

// Trains a one-epoch model of 4 tiny clips in `dir` with `flags` added; the model must load.
Model train_small_model(const fs::path& dir, const std::string& flags) {
  write_dataset(dir / "a", 4);
  const fs::path model = dir / "tone.earshot";
  const auto r = run_earshot_in(
      fmt::format("train --data '{}' --out '{}' {} --epochs 1 --batch 2 --conv-filters 4 --gru 4 "
                  "--val-fraction 0 --threads 1",
                  (dir / "a").string(), model.string(), flags),
      dir);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  return load_model(model);
}

// Exit code of `earshot train` on the data of train_small_model with `flags` added.
int train_exit_code(const fs::path& dir, const std::string& flags) {
  return run_earshot_in(fmt::format("train --data '{}' --out '{}' {}", (dir / "a").string(),
                                    (dir / "refused.earshot").string(), flags),
                        dir)
      .exit_code;
}

bool provenance_has(const Model& model, const std::string& flag) {
  return model.metadata().provenance["command_line"].get<std::string>().find(flag) !=
         std::string::npos;
}

}  // namespace

TEST_CASE("earshot train --frontend linear makes a model that reads the linear spectrum", "[cli]") {
  const fs::path dir = scratch_dir("cli_linear");
  const Model loaded = train_small_model(dir, "--frontend linear");
  CHECK(loaded.metadata().frontend.scale == SpectrumScale::kLinear);
  CHECK(loaded.shape().feature_dim == loaded.metadata().frontend.fft_size / 2 + 1);
  CHECK(provenance_has(loaded, "--frontend linear"));
  CHECK(train_exit_code(dir, "--frontend bark") == 2);
  // Warps beyond 30 % would move whole phonemes: refused as a usage error.
  CHECK(train_exit_code(dir, "--freq-warp 0.5") == 2);
  CHECK(train_exit_code(dir, "--time-warp 0.5") == 2);
  CHECK(train_exit_code(dir, "--weight-average 1") == 2);
  CHECK(train_exit_code(dir, "--focal-gamma 9") == 2);
}

TEST_CASE("earshot train --teacher distils a model and records the teacher in its provenance",
          "[cli]") {
  const fs::path dir = scratch_dir("cli_teacher");
  train_small_model(dir, "");
  const fs::path teacher = dir / "teacher.earshot";
  fs::rename(dir / "tone.earshot", teacher);
  const Model student =
      train_small_model(dir, fmt::format("--teacher '{}' --teacher-weight 0.7", teacher.string()));
  CHECK(provenance_has(student, "--teacher-weight 0.7"));
  const auto& taught_by = student.metadata().provenance["teacher"];
  CHECK(taught_by["weight"].get<double>() == Approx(0.7));
  CHECK(taught_by["networks"] == 1);
  CHECK(taught_by["provenance"].contains("command_line"));
  // A teacher on another front end, a missing one, or a weight beyond 1: refused, nothing written.
  train_small_model(dir, "--frontend linear");  // tone.earshot now reads the linear spectrum
  CHECK(train_exit_code(dir, fmt::format("--teacher '{}'", (dir / "tone.earshot").string())) == 1);
  CHECK(train_exit_code(dir, fmt::format("--teacher '{}'", (dir / "absent.earshot").string())) ==
        2);
  CHECK(train_exit_code(dir, fmt::format("--teacher '{}' --teacher-weight 2", teacher.string())) ==
        2);
  CHECK_FALSE(fs::exists(dir / "refused.earshot"));
}

TEST_CASE("earshot train --compression pcen makes a model whose front end is PCEN", "[cli]") {
  const fs::path dir = scratch_dir("cli_pcen");
  const Model loaded = train_small_model(dir, "--compression pcen");
  CHECK(loaded.metadata().frontend.compression == earshot::Compression::kPcen);
  CHECK(provenance_has(loaded, "--compression pcen"));
  CHECK(train_exit_code(dir, "--compression cube-root") == 2);
}

TEST_CASE("earshot train reports a missing manifest and skipped clips clearly", "[cli]") {
  const fs::path dir = scratch_dir("cli_errors");
  const auto missing =
      run_earshot_in(fmt::format("train --data '{}' --out '{}'", (dir / "absent").string(),
                                 (dir / "m.earshot").string()),
                     dir);
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.output, Catch::Contains("manifest"));
  CHECK_FALSE(fs::exists(dir / "m.earshot"));

  write_dataset(dir / "set", 5);
  fs::remove(dir / "set" / "clips" / "000002.wav");
  const auto partial =
      run_earshot_in(fmt::format("train --data '{}' --out '{}' --epochs 1 --conv-filters 4 --gru 4 "
                                 "--val-fraction 0",
                                 (dir / "set").string(), (dir / "m.earshot").string()),
                     dir);
  INFO(partial.output);
  CHECK(partial.exit_code == 3);
  CHECK_THAT(partial.output, Catch::Contains("000002.wav"));
  CHECK(fs::exists(dir / "m.earshot"));
}
