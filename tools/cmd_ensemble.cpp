// `earshot ensemble`: average separately trained models into one model file.
#include <fmt/chrono.h>
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "command.hpp"
#include "earshot/model_ensemble.hpp"
#include "earshot/model_file.hpp"

namespace earshot::cli::ensemble_command {
namespace {

struct EnsembleFlags {
  std::vector<std::string> models;
  std::string out;
};

void add_flags(CLI::App& command, EnsembleFlags& flags) {
  command.add_option("--model", flags.models, "a model to average; repeat (two or more networks)")
      ->required();
  command.add_option("--out", flags.out, "the ensemble model file to write")->required();
}

int run_ensemble(const EnsembleFlags& flags) {
  std::vector<Model> models;
  for (const std::string& path : flags.models)
    models.push_back(load_model(path));
  const std::string command_line = fmt::format("earshot ensemble --model {} --out {}",
                                               fmt::join(flags.models, " --model "), flags.out);
  const Model ensemble = make_ensemble(
      models, {{"command_line", command_line},
               {"date", fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::time(nullptr)))}});
  save_model(flags.out, ensemble);
  fmt::print(
      "wrote {} ({} networks). Its default threshold {:.4f} is the members' mean; calibrate it: "
      "earshot eval --model {} ... --calibrate FA_PER_HOUR --calibrated-model OUT\n",
      flags.out, ensemble.members().size(), ensemble.metadata().default_threshold, flags.out);
  return kSuccess;
}

const CommandRegistration registration{
    "ensemble", "Average separately trained models (same keyword, features and shape) into one",
    [](CLI::App& command) -> std::function<int()> {
      auto flags = std::make_shared<EnsembleFlags>();
      add_flags(command, *flags);
      return [flags] { return run_ensemble(*flags); };
    }};

}  // namespace
}  // namespace earshot::cli::ensemble_command
