// Adam, gradient clipping, the learning-rate schedule and the weight average
// (train_optimizer.hpp).
#include "earshot/train_optimizer.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace earshot::train {

AdamOptimizer::AdamOptimizer(Eigen::Index num_parameters, double beta1, double beta2,
                             double epsilon)
    : first_moment_(Eigen::VectorXf::Zero(num_parameters)),
      second_moment_(Eigen::VectorXf::Zero(num_parameters)),
      beta1_(beta1),
      beta2_(beta2),
      epsilon_(epsilon) {}

void AdamOptimizer::step(Eigen::VectorXf& parameters, const Eigen::VectorXf& gradient,
                         double learning_rate) {
  ++steps_taken_;
  const auto b1 = static_cast<float>(beta1_);
  const auto b2 = static_cast<float>(beta2_);
  first_moment_ = b1 * first_moment_ + (1.0f - b1) * gradient;
  second_moment_ = b2 * second_moment_ + (1.0f - b2) * gradient.cwiseAbs2();
  // Bias correction folded into the step size and epsilon, so the update is one pass.
  const double correction1 = 1.0 - std::pow(beta1_, static_cast<double>(steps_taken_));
  const double correction2 = 1.0 - std::pow(beta2_, static_cast<double>(steps_taken_));
  const auto step_size = static_cast<float>(learning_rate * std::sqrt(correction2) / correction1);
  const auto scaled_epsilon = static_cast<float>(epsilon_ * std::sqrt(correction2));
  parameters.array() -=
      step_size * first_moment_.array() / (second_moment_.array().sqrt() + scaled_epsilon);
}

double clip_gradient_norm(Eigen::VectorXf& gradient, double max_norm) {
  const double norm = gradient.cast<double>().norm();
  if (max_norm > 0 && norm > max_norm) gradient *= static_cast<float>(max_norm / norm);
  return norm;
}

double LearningRateSchedule::at(std::int64_t step) const {
  if (step < warmup_steps) return peak * static_cast<double>(step + 1) / warmup_steps;
  const double decay_steps =
      static_cast<double>(std::max<std::int64_t>(total_steps - warmup_steps, 1));
  const double progress = std::clamp((step - warmup_steps) / decay_steps, 0.0, 1.0);
  const double cosine = 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
  return peak * (final_fraction + (1.0 - final_fraction) * cosine);
}

WeightAverage::WeightAverage(double decay) : decay_(decay) {}

void WeightAverage::update(const Eigen::VectorXf& parameters) {
  if (!enabled()) return;
  const double n = static_cast<double>(updates_++);
  const auto decay = static_cast<float>(std::min(decay_, (1.0 + n) / (10.0 + n)));
  if (average_.size() != parameters.size()) {
    average_ = parameters;
    return;
  }
  average_ = decay * average_ + (1.0f - decay) * parameters;
}

const Eigen::VectorXf& WeightAverage::averaged(const Eigen::VectorXf& parameters) const {
  return enabled() && average_.size() == parameters.size() ? average_ : parameters;
}

}  // namespace earshot::train
