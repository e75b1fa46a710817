// Ensembles: a model of several networks gives the mean of their probabilities, streaming
// and batch, after saving and loading, and refuses models that do not belong together.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "audio_helpers.hpp"
#include "command_helpers.hpp"
#include "earshot/error.hpp"
#include "earshot/eval.hpp"
#include "earshot/model_ensemble.hpp"
#include "earshot/model_file.hpp"
#include "model_stream_helpers.hpp"
#include "random_model.hpp"

using namespace earshot;
namespace fs = std::filesystem;
using testing::max_abs_difference;
using testing::read_text;  // the whole file, binary-safe

namespace {

fs::path scratch_dir() {
  const fs::path dir = fs::path(EARSHOT_TEST_TMP) / "model_ensemble";
  fs::create_directories(dir);
  return dir;
}

ModelShape small_shape() {
  ModelShape shape;
  shape.feature_dim = 40;
  shape.conv_filters = 12;
  shape.conv_kernel = 5;
  shape.conv_stride = 4;
  shape.gru_sizes = {10, 8};
  return shape;
}

// A random network that normalises its features its own way (`seed` picks both), as models
// trained on different data splits do.
Model random_network(std::uint64_t seed, ModelShape shape = small_shape()) {
  const auto base = testing::random_model(seed, shape);
  ModelMetadata metadata = base->metadata();
  for (std::size_t d = 0; d < metadata.feature_mean.size(); ++d) {
    metadata.feature_mean[d] = -6.0f + 0.1f * static_cast<float>((d * seed) % 17);
    metadata.feature_std[d] = 6.0f + 0.5f * static_cast<float>((d + seed) % 7);
  }
  metadata.provenance = {{"seed", seed},
                         {"command_line", "earshot train --seed " + std::to_string(seed)},
                         {"mean_trigger_duration_s", 0.5 + 0.1 * double(seed)}};
  metadata.default_threshold = 0.5f + 0.1f * static_cast<float>(seed % 3);
  return Model(std::move(metadata), base->members());
}

// Log-mel-like frames: levels around the normalisation means, varying over time.
std::vector<float> some_frames(std::size_t frames, int dim = 40) {
  std::vector<float> values(frames * static_cast<std::size_t>(dim));
  for (std::size_t i = 0; i < values.size(); ++i)
    values[i] = -5.0f + 12.0f * std::sin(0.37f * static_cast<float>(i)) * std::cos(0.011f * i);
  return values;
}

std::vector<float> stream_all(const std::shared_ptr<const Model>& model,
                              const std::vector<float>& frames) {
  ModelStream stream(model);
  return testing::stream_all(stream, frames);
}

std::vector<float> mean_of(const std::vector<std::vector<float>>& runs) {
  std::vector<float> mean(runs.front().size(), 0.0f);
  for (const auto& run : runs) {
    for (std::size_t i = 0; i < mean.size(); ++i)
      mean[i] += run[i] / static_cast<float>(runs.size());
  }
  return mean;
}

}  // namespace

TEST_CASE("an ensemble's probability is the mean of its models' probabilities", "[model]") {
  const Model a = random_network(1);
  const Model b = random_network(2);
  const Model ensemble = make_ensemble({a, b}, {});
  const std::size_t frames = 401;
  const auto features = some_frames(frames);
  const std::vector<float> expected =
      mean_of({a.forward(features, frames), b.forward(features, frames)});
  const std::vector<float> batch = ensemble.forward(features, frames);
  CHECK(ensemble.members().size() == 2);
  CHECK(max_abs_difference(batch, expected) < 1e-5);
  // The two models disagree, so the mean is not either one of them.
  CHECK(max_abs_difference(a.forward(features, frames), b.forward(features, frames)) > 0.1);
  CHECK(std::any_of(batch.begin(), batch.end(), [](float p) { return p > 0.05f && p < 0.95f; }));

  SECTION("streaming equals batch") {
    CHECK(max_abs_difference(stream_all(std::make_shared<const Model>(ensemble), features), batch) <
          1e-5);
  }
}

TEST_CASE("renormalised weights read other normalised features and give the same outputs",
          "[model]") {
  const Model original = random_network(3);
  const Model other_norm = random_network(4);
  const ModelMetadata& from = original.metadata();
  const ModelMetadata& to = other_norm.metadata();
  REQUIRE(from.feature_mean != to.feature_mean);
  ModelMetadata metadata = from;
  metadata.feature_mean = to.feature_mean;
  metadata.feature_std = to.feature_std;
  const Model moved(metadata,
                    renormalised(original.members().front(), from.shape, from.feature_mean,
                                 from.feature_std, to.feature_mean, to.feature_std));
  const auto features = some_frames(201);
  CHECK(max_abs_difference(moved.forward(features, 201), original.forward(features, 201)) < 1e-5);
}

TEST_CASE("ensembles of ensembles count every network once", "[model]") {
  const Model a = random_network(5), b = random_network(6), c = random_network(7);
  const Model nested = make_ensemble({make_ensemble({a, b}, {}), c}, {});
  CHECK(nested.members().size() == 3);
  const auto features = some_frames(161);
  const auto expected =
      mean_of({a.forward(features, 161), b.forward(features, 161), c.forward(features, 161)});
  CHECK(max_abs_difference(nested.forward(features, 161), expected) < 1e-5);
}

TEST_CASE("an ensemble records its members and starts from their mean threshold", "[model]") {
  const Model a = random_network(1), b = random_network(2);
  const Model ensemble = make_ensemble({a, b}, {{"command_line", "earshot ensemble ..."}});
  const nlohmann::json& provenance = ensemble.metadata().provenance;
  CHECK(provenance["command_line"] == "earshot ensemble ...");
  REQUIRE(provenance["ensemble_of"].size() == 2);
  CHECK(provenance["ensemble_of"][1]["seed"] == 2);
  CHECK(provenance["mean_trigger_duration_s"].get<double>() == Approx(0.65));
  CHECK(ensemble.metadata().default_threshold ==
        Approx((a.metadata().default_threshold + b.metadata().default_threshold) / 2));
  CHECK(ensemble.metadata().feature_mean == a.metadata().feature_mean);
}

TEST_CASE("calibrating an ensemble keeps every member and its card lists them", "[model]") {
  const Model a = random_network(1), b = random_network(2);
  const Model ensemble = make_ensemble({a, b}, {{"command_line", "earshot ensemble ..."}});
  const Model calibrated = with_calibration(ensemble, 0.9f, {{"target_fa_per_hour", 0.5}});
  CHECK(calibrated.members().size() == 2);
  CHECK(calibrated.metadata().default_threshold == 0.9f);
  const auto features = some_frames(81);
  CHECK(calibrated.forward(features, 81) == ensemble.forward(features, 81));

  const std::string card = model_card_markdown(calibrated, "ab.earshot", {}, {});
  CHECK_THAT(card, Catch::Contains("network: mean of 2 networks, each Conv1D 12 filters"));
  CHECK_THAT(card,
             Catch::Contains(std::to_string(2 * small_shape().num_parameters()) + " parameters"));
  CHECK_THAT(card, Catch::Contains("- member 1: `earshot train --seed 1`") &&
                       Catch::Contains("- member 2: `earshot train --seed 2`"));
}

TEST_CASE("models that do not belong together are not averaged", "[model]") {
  const Model a = random_network(1);
  CHECK_THROWS_WITH(make_ensemble({a}, {}), Catch::Contains("from 2 to 64 networks, got 1"));
  CHECK_THROWS_WITH(make_ensemble(std::vector<Model>(65, a), {}),
                    Catch::Contains("from 2 to 64 networks, got 65"));

  ModelShape wider = small_shape();
  wider.gru_sizes = {10, 9};
  CHECK_THROWS_WITH(make_ensemble({a, random_network(2, wider)}, {}),
                    Catch::Contains("model 2 has another network shape"));

  ModelMetadata other_word = random_network(3).metadata();
  other_word.keywords = {"computer"};
  const Model c(other_word, random_network(3).members());
  CHECK_THROWS_WITH(make_ensemble({a, a, c}, {}),
                    Catch::Contains("model 3 detects other keywords"));

  ModelMetadata other_window = a.metadata();
  other_window.label_window_s = 0.3;
  CHECK_THROWS_WITH(make_ensemble({a, Model(other_window, a.members())}, {}),
                    Catch::Contains("another label window"));
}

TEST_CASE("an ensemble saves and loads with every member and a single model's file is as before",
          "[model_file]") {
  const Model ensemble = make_ensemble({random_network(1), random_network(2)}, {});
  const fs::path path = scratch_dir() / "two.earshot";
  save_model(path, ensemble);
  const Model loaded = load_model(path);
  CHECK(loaded.members().size() == 2);
  const auto features = some_frames(121);
  CHECK(loaded.forward(features, 121) == ensemble.forward(features, 121));
  const std::string bytes = read_text(path);
  CHECK(bytes.find("member1.gru1.hidden_bias") != std::string::npos);
  CHECK(read_model_file(path).metadata["ensemble_members"] == 2);

  const fs::path single = scratch_dir() / "one.earshot";
  save_model(single, random_network(1));
  const std::string single_bytes = read_text(single);
  CHECK_FALSE(read_model_file(single).metadata.contains("ensemble_members"));
  CHECK(single_bytes.find("member1.") == std::string::npos);
}

TEST_CASE("an ensemble file whose member count and tensors disagree is refused", "[model_file]") {
  const Model ensemble = make_ensemble({random_network(1), random_network(2)}, {});
  ModelFileContents contents{metadata_to_json(ensemble.metadata()), model_tensors(ensemble)};
  const fs::path path = scratch_dir() / "bad.earshot";

  contents.metadata["ensemble_members"] = 3;
  write_model_file(path, contents);
  CHECK_THROWS_WITH(load_model(path), Catch::Contains("lacks tensor 'member2.conv.weight'"));

  contents.metadata.erase("ensemble_members");
  write_model_file(path, contents);
  CHECK_THROWS_WITH(load_model(path), Catch::Contains("unexpected tensor 'member1."));

  contents.metadata["ensemble_members"] = 0;
  write_model_file(path, contents);
  CHECK_THROWS_WITH(load_model(path), Catch::Contains("ensemble_members must be an integer"));
}

TEST_CASE("earshot ensemble writes a model file and a mismatch fails with exit 1", "[model][cli]") {
  const fs::path dir = scratch_dir() / "cli";
  fs::create_directories(dir);
  save_model(dir / "a.earshot", random_network(1));
  save_model(dir / "b.earshot", random_network(2));
  ModelShape wider = small_shape();
  wider.conv_filters = 14;
  save_model(dir / "wide.earshot", random_network(3, wider));

  const auto made = testing::run_earshot("ensemble --model '" + (dir / "a.earshot").string() +
                                             "' --model '" + (dir / "b.earshot").string() +
                                             "' --out '" + (dir / "ab.earshot").string() + "'",
                                         dir / "made.log");
  CHECK(made.exit_code == 0);
  CHECK_THAT(made.output, Catch::Contains("2 networks") && Catch::Contains("calibrate"));
  CHECK(load_model(dir / "ab.earshot").members().size() == 2);
  CHECK(load_model(dir / "ab.earshot")
            .metadata()
            .provenance["command_line"]
            .get<std::string>()
            .starts_with("earshot ensemble --model"));

  const auto refused = testing::run_earshot("ensemble --model '" + (dir / "a.earshot").string() +
                                                "' --model '" + (dir / "wide.earshot").string() +
                                                "' --out '" + (dir / "bad.earshot").string() + "'",
                                            dir / "refused.log");
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.output, Catch::Contains("model 2 has another network shape"));
  CHECK_FALSE(fs::exists(dir / "bad.earshot"));
}
