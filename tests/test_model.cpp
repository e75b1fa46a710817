// The inference Model: batch forward and streaming push agree, and the stream's timing,
// reset and checks behave as model.hpp promises.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "earshot/error.hpp"
#include "earshot/model.hpp"
#include "earshot/train_network.hpp"
#include "model_stream_helpers.hpp"

using namespace earshot;
using testing::max_abs_difference;
using testing::stream_all;

namespace {

ModelShape make_shape(int features, int filters, int kernel, int stride, std::vector<int> gru) {
  ModelShape shape;
  shape.feature_dim = features;
  shape.conv_filters = filters;
  shape.conv_kernel = kernel;
  shape.conv_stride = stride;
  shape.gru_sizes = std::move(gru);
  return shape;
}

FrontEndConfig frontend_with_dim(int dim) {
  FrontEndConfig frontend;
  frontend.num_mel_bands = dim;
  return frontend;
}

std::vector<float> random_values(std::size_t count, std::uint64_t seed, double scale) {
  std::mt19937_64 rng(seed);
  std::vector<float> values(count);
  for (float& v : values) {
    v = static_cast<float>(scale * (2.0 * static_cast<double>(rng() >> 11) * 0x1.0p-53 - 1.0));
  }
  return values;
}

// A model whose every weight, bias and normalisation value is random (not just initialised),
// built through the trainer's export so BatchNorm folding is exercised too.
std::shared_ptr<const Model> random_model(const ModelShape& shape, std::uint64_t seed) {
  const train::NetworkLayout layout(shape);
  const std::vector<float> values =
      random_values(static_cast<std::size_t>(layout.num_parameters()), seed, 0.5);
  const Eigen::VectorXf parameters =
      Eigen::Map<const Eigen::VectorXf>(values.data(), values.size());
  train::BatchNormRunningStats running;
  running.reset(shape.conv_filters);
  const auto means = random_values(shape.conv_filters, seed + 3, 0.2);
  running.mean = Eigen::Map<const Eigen::VectorXf>(means.data(), shape.conv_filters).cast<double>();
  running.variance = Eigen::VectorXd::Constant(shape.conv_filters, 1.5);
  ModelMetadata metadata;
  metadata.frontend = frontend_with_dim(shape.feature_dim);
  metadata.shape = shape;
  metadata.feature_mean = random_values(shape.feature_dim, seed + 1, 3.0);
  metadata.feature_std = random_values(shape.feature_dim, seed + 2, 1.0);
  for (float& s : metadata.feature_std)
    s = 1.0f + std::abs(s);
  return std::make_shared<const Model>(
      train::export_model(layout, parameters, running, std::move(metadata)));
}

}  // namespace

TEST_CASE("streaming push equals batch forward within 1e-5", "[model]") {
  // Layer sizes that take every path of the streaming product's AVX2 loop (blocks of 32 rows,
  // of 8, and single rows left over; model_matvec.cpp; a CPU without AVX2 checks Eigen's
  // product instead), and the shipped model's shape.
  const auto shape =
      GENERATE(make_shape(40, 16, 5, 4, {12, 8}), make_shape(20, 8, 1, 1, {6}),
               make_shape(40, 24, 15, 4, {16, 16}), make_shape(10, 6, 4, 4, {5}),
               make_shape(13, 9, 7, 3, {7, 5, 4}), make_shape(40, 64, 5, 4, {96, 96}));
  const auto model = random_model(shape, 11);
  const std::size_t frames = 301;
  const auto features = random_values(frames * shape.feature_dim, 99, 4.0);
  const std::vector<float> batch = model->forward(features, frames);
  REQUIRE(batch.size() == shape.num_outputs(frames));
  ModelStream stream(model);
  const std::vector<float> streamed = stream_all(stream, features);
  CHECK(max_abs_difference(batch, streamed) < 1e-5);
  // The outputs are not saturated: the comparison means something.
  CHECK(std::any_of(batch.begin(), batch.end(), [](float p) { return p > 0.05f && p < 0.95f; }));
}

TEST_CASE("a stream yields output j with frame j*s + k, nothing in between", "[model]") {
  const auto model = random_model(make_shape(8, 4, 5, 3, {4}), 1);  // k = 5, s = 3
  ModelStream stream(model);
  const auto frame = random_values(8, 2, 1.0);
  std::vector<std::uint64_t> output_frames;
  for (std::uint64_t n = 1; n <= 20; ++n) {
    if (stream.push(frame)) output_frames.push_back(n);
  }
  CHECK(output_frames == std::vector<std::uint64_t>{5, 8, 11, 14, 17, 20});
  CHECK(stream.frames_pushed() == 20);
  CHECK(stream.outputs_emitted() == model->num_outputs(20));
}

TEST_CASE("num_outputs is 0 below k frames and 1 + (F - k) / s from k on", "[model]") {
  const ModelShape shape = make_shape(40, 8, 15, 4, {8});
  CHECK(shape.num_outputs(0) == 0);
  CHECK(shape.num_outputs(14) == 0);
  CHECK(shape.num_outputs(15) == 1);
  CHECK(shape.num_outputs(18) == 1);
  CHECK(shape.num_outputs(19) == 2);
  CHECK(shape.num_outputs(998) == 1 + (998 - 15) / 4);
  const auto model = random_model(shape, 3);
  CHECK(model->forward(random_values(14 * 40, 1, 1.0), 14).empty());
}

TEST_CASE("reset makes a stream start over as if new", "[model]") {
  const auto model = random_model(make_shape(12, 8, 5, 2, {6, 6}), 4);
  const auto features = random_values(60 * 12, 5, 2.0);
  ModelStream fresh(model);
  const auto expected = stream_all(fresh, features);
  ModelStream reused(model);
  stream_all(reused, random_values(37 * 12, 6, 2.0));
  reused.reset();
  CHECK(reused.frames_pushed() == 0);
  CHECK(stream_all(reused, features) == expected);
}

TEST_CASE("one model serves streams on several threads independently", "[model]") {
  const auto model = random_model(make_shape(16, 8, 5, 4, {8, 8}), 8);
  const auto features = random_values(200 * 16, 9, 2.0);
  ModelStream reference(model);
  const auto expected = stream_all(reference, features);
  std::vector<std::vector<float>> results(3);
  std::vector<std::thread> threads;
  for (auto& result : results) {
    threads.emplace_back([&] {
      ModelStream stream(model);
      result = stream_all(stream, features);
    });
  }
  for (auto& t : threads)
    t.join();
  for (const auto& result : results)
    CHECK(result == expected);
}

TEST_CASE("output step is stride x hop and the receptive field spans k frames", "[model]") {
  const auto model = random_model(make_shape(40, 8, 5, 4, {8}), 10);  // hop 160, window 400
  CHECK(model->output_step_s() == Approx(4 * 0.010));
  CHECK(model->receptive_field_s() == Approx((4 * 160 + 400) / 16000.0));
  const ModelShape reference = make_shape(40, 196, 15, 4, {128, 128});
  CHECK(receptive_field_s(reference, FrontEndConfig{}) == Approx((14 * 160 + 400) / 16000.0));
  CHECK(output_step_s(make_shape(40, 8, 8, 8, {8}), FrontEndConfig{}) == Approx(0.08));
}

TEST_CASE("wrong-sized frames and frame buffers are rejected", "[model]") {
  const auto model = random_model(make_shape(10, 4, 3, 1, {4}), 12);
  ModelStream stream(model);
  CHECK_THROWS_WITH(stream.push(std::vector<float>(9)),
                    Catch::Contains("frame has 9 values, the model needs 10"));
  CHECK_THROWS_AS(model->forward(std::vector<float>(25), 3), Error);
  CHECK_THROWS_AS(ModelStream(nullptr), Error);
}

TEST_CASE("a model whose weights or metadata disagree with its shape is refused", "[model]") {
  const auto good = random_model(make_shape(10, 4, 3, 1, {4}), 13);
  {
    ModelWeights weights = good->members().front();
    weights.gru[0].hidden_weights.resize(12, 3);
    CHECK_THROWS_WITH(Model(good->metadata(), weights),
                      Catch::Contains("GRU layer 0 hidden weights are 12 x 3") &&
                          Catch::Contains("needs 12 x 4"));
  }
  {
    ModelMetadata metadata = good->metadata();
    metadata.feature_std[3] = 0.0f;
    CHECK_THROWS_WITH(Model(metadata, good->members().front()), Catch::Contains("std > 0"));
  }
  {
    ModelMetadata metadata = good->metadata();
    metadata.frontend.num_mel_bands = 20;
    CHECK_THROWS_WITH(Model(metadata, good->members().front()),
                      Catch::Contains("front end produces 20 values"));
  }
}

TEST_CASE("a shape whose stride exceeds its kernel is invalid", "[model]") {
  CHECK_THROWS_WITH(make_shape(40, 8, 4, 5, {8}).validate(),
                    Catch::Contains("conv_stride (5) must not exceed conv_kernel (4)"));
  CHECK_THROWS_AS(make_shape(40, 8, 4, 4, {}).validate(), Error);
  CHECK_NOTHROW(make_shape(40, 8, 4, 4, {8}).validate());
}
