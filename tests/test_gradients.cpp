// Every training layer's backward pass against central finite differences, in double
// precision: the largest relative error over all parameters and inputs must stay below 1e-3.
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "earshot/train_layers.hpp"
#include "earshot/train_network.hpp"

using namespace earshot;
using namespace earshot::train;

namespace {

constexpr double kMaxRelativeError = 1e-3;
constexpr double kStep = 1e-5;

std::mt19937_64& test_rng() {
  static std::mt19937_64 rng(20240611);
  return rng;
}

double uniform(double low, double high) {
  return low + (high - low) * static_cast<double>(test_rng()() >> 11) * 0x1.0p-53;
}

Eigen::MatrixXd random_matrix(Index rows, Index cols, double scale = 1.0) {
  Eigen::MatrixXd m(rows, cols);
  for (Index i = 0; i < m.size(); ++i)
    m.data()[i] = uniform(-scale, scale);
  return m;
}

Eigen::VectorXd random_vector(Index size, double scale = 1.0) {
  return random_matrix(size, 1, scale);
}

// Largest |analytic - numeric| / max(|analytic| + |numeric|, 1e-6) over the entries of
// `values`, where numeric is the central difference of loss() in that entry.
double max_relative_error(double* values, Index size, const Eigen::VectorXd& analytic,
                          const std::function<double()>& loss) {
  REQUIRE(analytic.size() == size);
  double worst = 0;
  for (Index i = 0; i < size; ++i) {
    const double saved = values[i];
    values[i] = saved + kStep;
    const double up = loss();
    values[i] = saved - kStep;
    const double down = loss();
    values[i] = saved;
    const double numeric = (up - down) / (2 * kStep);
    const double error =
        std::abs(analytic(i) - numeric) / std::max(std::abs(analytic(i)) + std::abs(numeric), 1e-6);
    worst = std::max(worst, error);
  }
  return worst;
}

double max_relative_error(Eigen::VectorXd& values, const Eigen::VectorXd& analytic,
                          const std::function<double()>& loss) {
  return max_relative_error(values.data(), values.size(), analytic, loss);
}

double max_relative_error(Eigen::MatrixXd& values, const Eigen::MatrixXd& analytic,
                          const std::function<double()>& loss) {
  return max_relative_error(values.data(), values.size(),
                            Eigen::Map<const Eigen::VectorXd>(analytic.data(), analytic.size()),
                            loss);
}

// sum(weights .* values): a loss whose gradient with respect to `values` is `weights`.
double weighted_sum(const Eigen::MatrixXd& weights, const Eigen::MatrixXd& values) {
  return weights.cwiseProduct(values).sum();
}

}  // namespace

TEST_CASE("Conv1D weight and bias gradients match finite differences", "[gradients]") {
  const Conv1dShape shape{3, 4, 4, 2};  // 3 features, 4 filters, kernel 4, stride 2
  Eigen::VectorXd parameters = random_vector(shape.num_parameters());
  const Eigen::MatrixXd input = random_matrix(3, 11);
  const Eigen::MatrixXd upstream = random_matrix(4, shape.num_outputs(11));
  REQUIRE(upstream.cols() == 4);
  const auto loss = [&] {
    Eigen::MatrixXd output;
    conv1d_forward(shape, shape.view(parameters.data()), input, output);
    return weighted_sum(upstream, output);
  };
  Eigen::VectorXd gradient = Eigen::VectorXd::Zero(parameters.size());
  auto grad = shape.view(gradient.data());
  conv1d_backward(shape, input, upstream, grad);
  CHECK(max_relative_error(parameters, gradient, loss) < kMaxRelativeError);
}

TEST_CASE("BatchNorm gradients over a two-clip batch match finite differences", "[gradients]") {
  const BatchNormShape shape{3, 1e-3};
  Eigen::VectorXd parameters(shape.num_parameters());
  parameters << 1.2, 0.7, -0.9, 0.1, -0.3, 0.5;  // gamma, beta
  std::vector<Eigen::MatrixXd> inputs = {random_matrix(3, 5, 2.0), random_matrix(3, 7, 2.0)};
  const std::vector<Eigen::MatrixXd> upstream = {random_matrix(3, 5), random_matrix(3, 7)};

  const auto forward = [&](std::vector<Eigen::MatrixXd>& normalized,
                           std::vector<Eigen::MatrixXd>& outputs, BatchNormMoments& moments) {
    moments.reset(3);
    for (const auto& input : inputs)
      moments.add(input);
    const auto stats = batch_norm_stats<double>(moments, shape.epsilon);
    for (std::size_t c = 0; c < inputs.size(); ++c) {
      batch_norm_forward(shape.view(parameters.data()), stats, inputs[c], normalized[c],
                         outputs[c]);
    }
    return stats;
  };
  const auto loss = [&] {
    std::vector<Eigen::MatrixXd> normalized(2), outputs(2);
    BatchNormMoments moments;
    forward(normalized, outputs, moments);
    return weighted_sum(upstream[0], outputs[0]) + weighted_sum(upstream[1], outputs[1]);
  };

  std::vector<Eigen::MatrixXd> normalized(2), outputs(2);
  BatchNormMoments moments;
  const auto stats = forward(normalized, outputs, moments);
  Eigen::VectorXd gradient = Eigen::VectorXd::Zero(parameters.size());
  auto grad = shape.view(gradient.data());
  for (std::size_t c = 0; c < 2; ++c)
    batch_norm_param_grads(normalized[c], upstream[c], grad);
  std::vector<Eigen::MatrixXd> d_inputs(2);
  for (std::size_t c = 0; c < 2; ++c) {
    batch_norm_backward(shape.view(parameters.data()), stats, grad, moments.count, normalized[c],
                        upstream[c], d_inputs[c]);
  }

  CHECK(max_relative_error(parameters, gradient, loss) < kMaxRelativeError);
  CHECK(max_relative_error(inputs[0], d_inputs[0], loss) < kMaxRelativeError);
  CHECK(max_relative_error(inputs[1], d_inputs[1], loss) < kMaxRelativeError);
}

TEST_CASE("ReLU gradient matches finite differences away from the kink", "[gradients]") {
  Eigen::MatrixXd input = random_matrix(4, 6);
  // Keep every value at least 0.01 from zero so a finite difference never crosses the kink.
  input = input.unaryExpr([](double v) { return v < 0 ? v - 0.01 : v + 0.01; });
  const Eigen::MatrixXd upstream = random_matrix(4, 6);
  const auto loss = [&] {
    Eigen::MatrixXd output = input;
    relu_forward(output);
    return weighted_sum(upstream, output);
  };
  Eigen::MatrixXd output = input;
  relu_forward(output);
  Eigen::MatrixXd d_input = upstream;
  relu_backward(output, d_input);
  CHECK(max_relative_error(input, d_input, loss) < kMaxRelativeError);
  CHECK((d_input.array() == 0).count() == (input.array() < 0).count());
}

TEST_CASE("dropout with a fixed mask passes gradients through the kept entries only",
          "[gradients]") {
  Eigen::MatrixXd input = random_matrix(5, 8);
  Eigen::MatrixXd mask;
  make_dropout_mask(0.4, 5, 8, 77, mask);
  const Eigen::MatrixXd upstream = random_matrix(5, 8);
  const auto loss = [&] { return weighted_sum(upstream, input.cwiseProduct(mask)); };
  const Eigen::MatrixXd d_input = upstream.cwiseProduct(mask);
  CHECK(max_relative_error(input, d_input, loss) < kMaxRelativeError);
}

TEST_CASE("a dropout mask zeroes about p of the entries and scales the rest by 1/(1-p)",
          "[dropout]") {
  Eigen::MatrixXd mask;
  make_dropout_mask(0.25, 100, 100, 5, mask);
  const double dropped = static_cast<double>((mask.array() == 0).count()) / mask.size();
  CHECK(dropped == Approx(0.25).margin(0.02));
  CHECK(((mask.array() == 0) || (mask.array() == 1.0 / 0.75)).all());
  Eigen::MatrixXd same_seed;
  make_dropout_mask(0.25, 100, 100, 5, same_seed);
  CHECK(same_seed == mask);
  make_dropout_mask(0.0, 3, 3, 5, mask);
  CHECK((mask.array() == 1.0).all());
}

TEST_CASE("GRU gradients through time match finite differences", "[gradients]") {
  const GruShape shape{3, 4};  // 3 inputs, 4 hidden units
  Eigen::VectorXd parameters = random_vector(shape.num_parameters(), 0.8);
  Eigen::MatrixXd input = random_matrix(3, 6);
  const Eigen::MatrixXd upstream = random_matrix(4, 6);
  const auto loss = [&] {
    GruCache<double> cache;
    gru_forward(shape, shape.view(parameters.data()), input, cache);
    return weighted_sum(upstream, cache.hidden);
  };
  GruCache<double> cache;
  gru_forward(shape, shape.view(parameters.data()), input, cache);
  Eigen::VectorXd gradient = Eigen::VectorXd::Zero(parameters.size());
  auto grad = shape.view(gradient.data());
  Eigen::MatrixXd d_input;
  gru_backward(shape, shape.view(parameters.data()), input, cache, upstream, grad, &d_input);
  CHECK(max_relative_error(parameters, gradient, loss) < kMaxRelativeError);
  CHECK(max_relative_error(input, d_input, loss) < kMaxRelativeError);
}

TEST_CASE("a GRU loss on the last step alone reaches the first step's input", "[gradients]") {
  const GruShape shape{2, 3};
  Eigen::VectorXd parameters = random_vector(shape.num_parameters(), 0.8);
  Eigen::MatrixXd input = random_matrix(2, 8);
  Eigen::MatrixXd upstream = Eigen::MatrixXd::Zero(3, 8);
  upstream.col(7) = random_vector(3);
  const auto loss = [&] {
    GruCache<double> cache;
    gru_forward(shape, shape.view(parameters.data()), input, cache);
    return weighted_sum(upstream, cache.hidden);
  };
  GruCache<double> cache;
  gru_forward(shape, shape.view(parameters.data()), input, cache);
  Eigen::VectorXd gradient = Eigen::VectorXd::Zero(parameters.size());
  auto grad = shape.view(gradient.data());
  Eigen::MatrixXd d_input;
  gru_backward(shape, shape.view(parameters.data()), input, cache, upstream, grad, &d_input);
  CHECK(d_input.col(0).norm() > 1e-6);
  CHECK(max_relative_error(input, d_input, loss) < kMaxRelativeError);
}

TEST_CASE("Dense + sigmoid + weighted cross-entropy gradients match finite differences",
          "[gradients]") {
  const DenseShape shape{4};
  Eigen::VectorXd parameters = random_vector(shape.num_parameters());
  Eigen::MatrixXd input = random_matrix(4, 7, 2.0);
  const std::vector<float> labels = {0, 0, 1, 1, 0, 1, 0};
  StepLossWeights weights{3.0, 0.0};
  SECTION("plain cross-entropy") {}
  SECTION("focal loss, gamma 2") {
    weights.focal_gamma = 2.0;
  }
  SECTION("focal loss, gamma 0.5") {
    weights.focal_gamma = 0.5;
  }
  const double scale = 1.0 / 7.0;
  const auto loss = [&] {
    Eigen::VectorXd logits, d_logits;
    dense_forward(shape.view(parameters.data()), input, logits);
    return weighted_bce(logits, labels, weights, scale, d_logits);
  };
  Eigen::VectorXd logits, d_logits;
  dense_forward(shape.view(parameters.data()), input, logits);
  weighted_bce(logits, labels, weights, scale, d_logits);
  Eigen::VectorXd gradient = Eigen::VectorXd::Zero(parameters.size());
  auto grad = shape.view(gradient.data());
  Eigen::MatrixXd d_input;
  dense_backward(shape.view(parameters.data()), input, d_logits, grad, &d_input);
  CHECK(max_relative_error(parameters, gradient, loss) < kMaxRelativeError);
  CHECK(max_relative_error(input, d_input, loss) < kMaxRelativeError);
}

TEST_CASE("weighted cross-entropy stays finite for extreme logits", "[loss]") {
  Eigen::VectorXd logits(2);
  logits << 800.0, -800.0;
  const std::vector<float> labels = {0, 1};
  Eigen::VectorXd d_logits;
  SECTION("plain cross-entropy") {
    const double loss = weighted_bce(logits, labels, StepLossWeights{2.0, 0.0}, 1.0, d_logits);
    CHECK(loss == Approx(800.0 + 2.0 * 800.0));
    CHECK(d_logits(0) == Approx(1.0));
    CHECK(d_logits(1) == Approx(-2.0));
  }
  SECTION("focal loss: a certain mistake keeps its whole weight") {
    const double loss = weighted_bce(logits, labels, StepLossWeights{2.0, 2.0}, 1.0, d_logits);
    CHECK(loss == Approx(800.0 + 2.0 * 800.0));
    CHECK(d_logits(0) == Approx(1.0));
    CHECK(d_logits(1) == Approx(-2.0));
  }
}

TEST_CASE(
    "focal loss: a step's term shrinks by (1 - p_right)^gamma, so confident mistakes dominate",
    "[loss]") {
  const auto loss_of = [](double probability, double label, double gamma) {
    double unused = 0;
    return step_loss(std::log(probability / (1 - probability)), label, StepLossWeights{2.0, gamma},
                     unused);
  };
  SECTION("gamma 0 is the weighted cross-entropy") {
    CHECK(loss_of(0.3, 0.0, 0.0) == Approx(-std::log(0.7)));
    CHECK(loss_of(0.3, 1.0, 0.0) == Approx(-2.0 * std::log(0.3)));
  }
  SECTION("a quiet step on silence (label 0, p 0.01) counts 0.01^2 of its plain term") {
    CHECK(loss_of(0.01, 0.0, 2.0) == Approx(0.01 * 0.01 * loss_of(0.01, 0.0, 0.0)));
  }
  SECTION("a loud false accept (label 0, p 0.95) keeps 0.95^2 of it") {
    CHECK(loss_of(0.95, 0.0, 2.0) == Approx(0.95 * 0.95 * loss_of(0.95, 0.0, 0.0)));
  }
  SECTION("a found word (label 1, p 0.9) counts 0.1^2, a missed one (p 0.1) 0.9^2") {
    CHECK(loss_of(0.9, 1.0, 2.0) == Approx(0.1 * 0.1 * loss_of(0.9, 1.0, 0.0)));
    CHECK(loss_of(0.1, 1.0, 2.0) == Approx(0.9 * 0.9 * loss_of(0.1, 1.0, 0.0)));
  }
}

namespace {

ModelShape tiny_shape() {
  ModelShape shape;
  shape.feature_dim = 3;
  shape.conv_filters = 4;
  shape.conv_kernel = 3;
  shape.conv_stride = 2;
  shape.gru_sizes = {5, 3};
  return shape;
}

struct TinyBatch {
  std::vector<std::vector<float>> features;
  std::vector<std::vector<float>> labels;
  std::vector<ClipExample> clips;
};

// Two clips of 13 and 9 frames (6 and 4 output steps) with a few positive labels.
TinyBatch tiny_batch() {
  TinyBatch batch;
  const ModelShape shape = tiny_shape();
  for (const std::size_t frames : {13u, 9u}) {
    std::vector<float> features(frames * 3);
    for (float& v : features)
      v = static_cast<float>(uniform(-2, 2));
    std::vector<float> labels(shape.num_outputs(frames), 0.0f);
    labels[1] = 1.0f;
    batch.features.push_back(features);
    batch.labels.push_back(labels);
  }
  for (std::size_t c = 0; c < 2; ++c) {
    batch.clips.push_back({batch.features[c], batch.labels[c], 1000 + c});
  }
  return batch;
}

// Loss weighting and dropout; no augmentation.
GradientOptions weighted(double positive_weight, double dropout) {
  GradientOptions options;
  options.loss_weights.positive_weight = positive_weight;
  options.dropout = dropout;
  return options;
}

}  // namespace

TEST_CASE(
    "the whole network's batch gradient (BatchNorm, dropout, two GRUs) matches finite "
    "differences",
    "[gradients]") {
  const TinyBatch batch = tiny_batch();
  TrainingNetwork<double> network(tiny_shape(), {0.1f, -0.2f, 0.3f}, {1.5f, 0.8f, 1.1f}, 1);
  Eigen::VectorXd parameters = initial_parameters<double>(network.layout(), 3);
  GradientOptions options = weighted(4.0, 0.3);
  SECTION("as it reads the features") {}
  SECTION("with a focal loss") {
    options.loss_weights.focal_gamma = 2.0;
  }
  SECTION("with a frequency warp (it acts on the input alone)") {
    options.warp = {0.2};
    options.feature_centres_hz = {300, 1000, 3000};
  }
  Eigen::VectorXd gradient;
  BatchNormMoments moments;
  const auto loss = [&] {
    Eigen::VectorXd unused;
    return network.loss_and_gradient(parameters, batch.clips, options, unused, moments);
  };
  network.loss_and_gradient(parameters, batch.clips, options, gradient, moments);
  CHECK(moments.count == 10);
  CHECK(max_relative_error(parameters, gradient, loss) < kMaxRelativeError);
}

TEST_CASE("the batch gradient is bit-identical with one thread and with two", "[gradients]") {
  const TinyBatch batch = tiny_batch();
  const std::vector<float> mean = {0, 0, 0}, deviation = {1, 1, 1};
  TrainingNetwork<float> one(tiny_shape(), mean, deviation, 1);
  TrainingNetwork<float> two(tiny_shape(), mean, deviation, 2);
  const Eigen::VectorXf parameters = initial_parameters<float>(one.layout(), 9);
  Eigen::VectorXf gradient_one, gradient_two;
  BatchNormMoments moments;
  const double loss_one =
      one.loss_and_gradient(parameters, batch.clips, weighted(2.0, 0.2), gradient_one, moments);
  const double loss_two =
      two.loss_and_gradient(parameters, batch.clips, weighted(2.0, 0.2), gradient_two, moments);
  CHECK(loss_one == loss_two);
  CHECK(gradient_one == gradient_two);
}

TEST_CASE(
    "masking or warping the input changes the training loss, the same way for the same "
    "clip seeds",
    "[gradients]") {
  const TinyBatch batch = tiny_batch();
  TrainingNetwork<double> network(tiny_shape(), {0, 0, 0}, {1, 1, 1}, 1);
  const Eigen::VectorXd parameters = initial_parameters<double>(network.layout(), 5);
  Eigen::VectorXd gradient;
  BatchNormMoments moments;
  const GradientOptions plain = weighted(2.0, 0.0);
  GradientOptions augmented = plain;
  SECTION("SpecAugment masks") {
    augmented.masking = {1, 2, 1, 3};
  }
  SECTION("frequency warp") {
    augmented.warp = {0.3};
    augmented.feature_centres_hz = {300, 1000, 3000};
  }
  const double plain_loss =
      network.loss_and_gradient(parameters, batch.clips, plain, gradient, moments);
  const double augmented_loss =
      network.loss_and_gradient(parameters, batch.clips, augmented, gradient, moments);
  CHECK(std::isfinite(augmented_loss));
  CHECK(augmented_loss != plain_loss);
  CHECK(network.loss_and_gradient(parameters, batch.clips, augmented, gradient, moments) ==
        augmented_loss);
}
