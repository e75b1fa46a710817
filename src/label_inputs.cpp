// Input discovery and output naming for `earshot label` (label_inputs.hpp).
#include "earshot/label_inputs.hpp"

#include <fmt/format.h>
#include <fmt/std.h>

#include <algorithm>
#include <map>
#include <system_error>

#include "earshot/audio_io.hpp"
#include "earshot/error.hpp"

namespace earshot {
namespace fs = std::filesystem;
namespace {

std::vector<LabelInput> walk_directory(const fs::path& directory) {
  std::vector<LabelInput> found;
  std::error_code error;
  fs::recursive_directory_iterator it(directory, fs::directory_options::skip_permission_denied,
                                      error);
  for (; !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    std::error_code kind_error;
    if (!it->is_regular_file(kind_error) || !has_audio_extension(it->path())) continue;
    const fs::path relative = it->path().lexically_relative(directory);
    found.push_back({it->path(), fs::path(relative).replace_extension()});
  }
  if (error) {
    throw Error(fmt::format("cannot read directory {}: {}", directory, error.message()));
  }
  std::sort(found.begin(), found.end(),
            [](const LabelInput& a, const LabelInput& b) { return a.path < b.path; });
  if (found.empty()) {
    throw Error(
        fmt::format("directory {} holds no audio files (looked for .wav, .flac, .ogg, "
                    ".opus, .mp3, ... recursively)",
                    directory));
  }
  return found;
}

}  // namespace

std::vector<LabelInput> collect_label_inputs(std::span<const fs::path> arguments) {
  std::vector<LabelInput> inputs;
  for (const fs::path& argument : arguments) {
    std::error_code error;
    const fs::file_status status = fs::status(argument, error);
    if (!fs::exists(status)) {
      throw Error(fmt::format("input {} does not exist", argument));
    }
    if (fs::is_directory(status)) {
      std::vector<LabelInput> found = walk_directory(argument);
      inputs.insert(inputs.end(), found.begin(), found.end());
    } else {
      inputs.push_back({argument, argument.stem()});
    }
  }
  return inputs;
}

void assign_output_names(std::vector<LabelInput>& inputs) {
  std::map<fs::path, int> uses;
  for (const LabelInput& input : inputs)
    ++uses[input.output_name];
  for (LabelInput& input : inputs) {
    if (uses[input.output_name] > 1) {
      input.output_name.replace_filename(input.path.filename());
    }
  }
  std::map<fs::path, const LabelInput*> owner;
  for (const LabelInput& input : inputs) {
    const auto [it, inserted] = owner.emplace(input.output_name, &input);
    if (!inserted) {
      throw Error(fmt::format(
          "inputs {} and {} would both write output '{}': label them in separate runs or "
          "with separate --out directories",
          it->second->path, input.path, input.output_name.string()));
    }
  }
}

fs::path find_default_model() {
  const fs::path relative = fs::path("models") / "activate.earshot";
  const fs::path in_source_tree = fs::path(EARSHOT_SOURCE_DIR) / relative;
  std::error_code error;
  if (fs::is_regular_file(in_source_tree, error)) return in_source_tree;
  if (fs::is_regular_file(relative, error)) return relative;
  throw Error(
      fmt::format("no --model given and no default model at {} or {}: pass --model FILE "
                  "(a .earshot file made by `earshot train`)",
                  in_source_tree, fs::absolute(relative, error)));
}

}  // namespace earshot
