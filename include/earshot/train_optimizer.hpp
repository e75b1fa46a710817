// Optimisation pieces of training, on flat parameter vectors (train_network.hpp): Adam,
// global gradient-norm clipping, the learning-rate schedule and the weight average.
#pragma once

#include <Eigen/Core>
#include <cstdint>

namespace earshot::train {

// Adam (Kingma & Ba, 2015) with bias-corrected moment estimates.
class AdamOptimizer {
 public:
  explicit AdamOptimizer(Eigen::Index num_parameters, double beta1 = 0.9, double beta2 = 0.999,
                         double epsilon = 1e-8);

  // parameters -= learning_rate * m_hat / (sqrt(v_hat) + epsilon).
  void step(Eigen::VectorXf& parameters, const Eigen::VectorXf& gradient, double learning_rate);
  std::int64_t steps_taken() const { return steps_taken_; }

 private:
  Eigen::VectorXf first_moment_;
  Eigen::VectorXf second_moment_;
  double beta1_;
  double beta2_;
  double epsilon_;
  std::int64_t steps_taken_ = 0;
};

// Scales `gradient` so that its L2 norm is at most `max_norm` (no limit if max_norm <= 0) and
// returns the norm it had before. One global norm keeps the direction of the whole update.
double clip_gradient_norm(Eigen::VectorXf& gradient, double max_norm);

// Linear warmup from peak / warmup_steps up to `peak` over the first `warmup_steps` steps, then
// cosine decay to peak * final_fraction at `total_steps` (and flat after).
struct LearningRateSchedule {
  double peak = 1e-3;
  std::int64_t warmup_steps = 0;
  std::int64_t total_steps = 1;
  double final_fraction = 0.05;

  double at(std::int64_t step) const;
};

// An exponential moving average of the parameters over the optimiser's steps (Polyak
// averaging): the weights that are validated and saved when training asks for it. The last
// steps' weights jitter around the minimum they approach; their average sits nearer its middle,
// which often generalises better than any one step's weights (for "activate" it did not:
// models/README.md, sixteenth session).
class WeightAverage {
 public:
  // decay 0 turns averaging off: averaged() is then the parameters as they are.
  explicit WeightAverage(double decay);

  // Folds in the parameters after one optimiser step. The first steps use a smaller decay,
  // min(decay, (1 + n) / (10 + n)) at update n, so the average is not tied to the random start.
  void update(const Eigen::VectorXf& parameters);
  const Eigen::VectorXf& averaged(const Eigen::VectorXf& parameters) const;
  bool enabled() const { return decay_ > 0; }

 private:
  double decay_;
  Eigen::VectorXf average_;
  std::int64_t updates_ = 0;
};

}  // namespace earshot::train
