// Knowledge distillation (Hinton, Vinyals & Dean, 2015): a network learns from a trained
// model's probabilities as well as from the 0/1 labels. The 0/1 labels say only "word" or
// "not the word"; a teacher that averages several networks also says which negatives sound
// nearly like the word and how sure one can be at each step, so one student taught by it can
// come nearer the ensemble than one network trained on the labels alone, at one network's cost.
// Training only: the teacher runs once on each training clip before the first epoch.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "earshot/frontend.hpp"
#include "earshot/model.hpp"

namespace earshot::train {

struct Distillation {
  std::shared_ptr<const Model> teacher;  // null: train on the labels alone
  // Each output step's target is (1 - teacher_weight) * label + teacher_weight * the
  // teacher's probability there.
  double teacher_weight = 0.5;

  bool enabled() const { return teacher != nullptr; }
  // Throws earshot::Error unless 0 <= teacher_weight <= 1 and, with a teacher, it reads the
  // student's features (the same front end) and gives its outputs at the same steps (the same
  // convolution kernel and stride), so that its step k is the student's step k.
  void validate(const FrontEndConfig& frontend, const ModelShape& shape) const;
};

// Moves `targets` (one clip's labels, one per output step) towards the teacher's probabilities
// on the clip's features. Throws earshot::Error if the teacher gives another number of steps.
void blend_teacher_targets(const Distillation& distillation, std::span<const float> features,
                           std::size_t num_frames, std::vector<float>& targets);

}  // namespace earshot::train
