// Distillation targets (train_distill.hpp): the labels blended with a teacher's probabilities.
#include "earshot/train_distill.hpp"

#include <fmt/format.h>

#include "earshot/error.hpp"

namespace earshot::train {

void Distillation::validate(const FrontEndConfig& frontend, const ModelShape& shape) const {
  if (!(teacher_weight >= 0 && teacher_weight <= 1)) {
    throw Error(
        fmt::format("training options: teacher weight must be in [0, 1], got {}", teacher_weight));
  }
  if (!enabled()) return;
  const ModelMetadata& taught_by = teacher->metadata();
  if (!(taught_by.frontend == frontend)) {
    throw Error(
        "training options: the teacher reads other features than the model being trained (its "
        "front end differs); train with the teacher's front-end settings");
  }
  if (taught_by.shape.conv_kernel != shape.conv_kernel ||
      taught_by.shape.conv_stride != shape.conv_stride) {
    throw Error(fmt::format(
        "training options: the teacher's outputs fall on other steps (convolution kernel {}, "
        "stride {}) than the model being trained (kernel {}, stride {})",
        taught_by.shape.conv_kernel, taught_by.shape.conv_stride, shape.conv_kernel,
        shape.conv_stride));
  }
}

void blend_teacher_targets(const Distillation& distillation, std::span<const float> features,
                           std::size_t num_frames, std::vector<float>& targets) {
  if (!distillation.enabled()) return;
  const std::vector<float> taught = distillation.teacher->forward(features, num_frames);
  if (taught.size() != targets.size()) {
    throw Error(
        fmt::format("the teacher gives {} output steps for a clip where the model being "
                    "trained has {}",
                    taught.size(), targets.size()));
  }
  const auto weight = static_cast<float>(distillation.teacher_weight);
  for (std::size_t k = 0; k < targets.size(); ++k)
    targets[k] = (1.0f - weight) * targets[k] + weight * taught[k];
}

}  // namespace earshot::train
