// The detector flags shared by every command that runs the detector (label, listen, eval):
// --threshold | --sensitivity, --min-steps, --smoothing, --refractory-s.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>

#include "earshot/detector.hpp"
#include "earshot/model.hpp"

namespace earshot::cli {

struct DetectorFlags {
  std::optional<float> threshold;
  std::optional<float> sensitivity;
  DetectorConfig detector;

  // Declares the flags on `command`.
  void add_to(CLI::App& command);
  // The configuration for `model`: its default threshold unless --threshold or
  // --sensitivity says otherwise. Throws earshot::Error on an invalid combination.
  DetectorConfig resolve(const Model& model) const;
};

}  // namespace earshot::cli
