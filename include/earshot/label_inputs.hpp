// What `earshot label` reads and where it writes: the audio files behind the command-line
// arguments, the output name each one gets, and the model used when none is named.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace earshot {

// One audio file to label.
struct LabelInput {
  std::filesystem::path path;  // as found: the argument, or the argument joined with the
                               // file's path under it
  // Where its outputs go relative to an output directory, without extension: the file's
  // stem, under the subdirectories it was found in for directory arguments
  // ("DIR/a/b.wav" -> "a/b"). See assign_output_names for clashes.
  std::filesystem::path output_name;
};

// The audio files behind `arguments`, in argument order: a file argument as it is (whatever
// its extension: the user named it), a directory walked recursively for files with an audio
// extension (has_audio_extension), sorted by path. Throws earshot::Error naming the argument
// if it does not exist or is a directory without audio files.
std::vector<LabelInput> collect_label_inputs(std::span<const std::filesystem::path> arguments);

// Makes every output name unique: inputs whose names clash (x.wav and x.flac, or two file
// arguments a/x.wav and b/x.wav) keep their audio extension in the name ("x.wav",
// "x.flac"). Throws earshot::Error naming two inputs that would still write the same file.
void assign_output_names(std::vector<LabelInput>& inputs);

// models/activate.earshot under the source tree the executable was built from, else under
// the current directory. Throws earshot::Error naming both places if neither exists.
std::filesystem::path find_default_model();

}  // namespace earshot
