// Source collections: the raw words and background recordings synthesis draws from.
#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "earshot/audio_io.hpp"
#include "earshot/error.hpp"
#include "earshot/synth.hpp"

namespace earshot {

namespace fs = std::filesystem;

namespace {

constexpr const char* kVoiceManifestName = "manifest.tsv";

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> fields;
  std::stringstream stream(line);
  std::string field;
  while (std::getline(stream, field, '\t'))
    fields.push_back(field);
  return fields;
}

std::string key_of(const fs::path& path) {
  return path.lexically_normal().string();
}

// The audio files of one spec, in sorted order so every run sees them in the same order, and
// the directories holding a voice manifest (any level under the root, or a file's own).
struct Listing {
  std::vector<fs::path> files;
  std::vector<fs::path> manifest_directories;
};

Listing list_audio_files(const fs::path& root) {
  std::error_code error;
  if (!fs::exists(root, error)) {
    throw Error(fmt::format("source '{}' does not exist", root.string()));
  }
  if (!fs::is_directory(root, error)) return {{root}, {root.parent_path()}};
  Listing listing;
  for (auto it = fs::recursive_directory_iterator(
           root, fs::directory_options::follow_directory_symlink, error);
       !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    std::error_code entry_error;  // a dangling link is not a reason to stop the walk
    if (!it->is_regular_file(entry_error)) continue;
    if (it->path().filename() == kVoiceManifestName) {
      listing.manifest_directories.push_back(it->path().parent_path());
    } else if (has_audio_extension(it->path())) {
      listing.files.push_back(it->path());
    }
  }
  if (error) {
    throw Error(
        fmt::format("cannot list source directory '{}': {}", root.string(), error.message()));
  }
  if (listing.files.empty()) {
    throw Error(fmt::format("source directory '{}' holds no audio files (.wav, .flac, ...)",
                            root.string()));
  }
  std::sort(listing.files.begin(), listing.files.end());
  std::sort(listing.manifest_directories.begin(), listing.manifest_directories.end());
  return listing;
}

std::map<std::string, std::string> read_voices(const std::vector<fs::path>& directories) {
  std::map<std::string, std::string> voices;
  for (const fs::path& directory : directories) {
    for (auto& [path, voice] : read_voice_manifest(directory))
      voices[key_of(path)] = voice;
  }
  return voices;
}

// Why a clip cannot be used, or "" if it can.
std::string rejection_reason(const std::vector<float>& samples, const SourceLimits& limits) {
  const double duration_s = static_cast<double>(samples.size()) / kSampleRate;
  if (limits.max_duration_s > 0 && duration_s > limits.max_duration_s) {
    return fmt::format("is {:.2f} s long, longer than the {:.2f} s clips being made", duration_s,
                       limits.max_duration_s);
  }
  const double level = peak_frame_rms(samples);
  if (level < limits.silence_rms) {
    return fmt::format("is silent (loudest 32 ms frame at {:.1f} dBFS)",
                       level > 0 ? amplitude_to_db(level) : -999.0);
  }
  return "";
}

struct ReadResult {
  std::vector<float> samples;
  std::string error;
};

// Reads every file with `threads` workers; results keep the order of `files`.
std::vector<ReadResult> read_all(const std::vector<fs::path>& files, int threads) {
  std::vector<ReadResult> results(files.size());
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i = next++; i < files.size(); i = next++) {
      try {
        results[i].samples = read_audio(files[i]);
      } catch (const std::exception& e) {
        results[i].error = e.what();
      }
    }
  };
  const auto worker_count = static_cast<std::size_t>(std::max(1, threads));
  std::vector<std::jthread> workers;
  for (std::size_t t = 1; t < std::min(worker_count, files.size()); ++t)
    workers.emplace_back(worker);
  worker();
  return results;
}

SourceCollection load_collection(const SourceSpec& spec, const SourceLimits& limits, int threads,
                                 std::vector<SkippedSource>& skipped) {
  const Listing listing = list_audio_files(spec.path);
  const std::vector<fs::path>& files = listing.files;
  const std::map<std::string, std::string> voices = read_voices(listing.manifest_directories);
  std::vector<ReadResult> results = read_all(files, threads);

  SourceCollection collection{spec.path.string(), spec.weight, {}};
  std::size_t skipped_here = 0;
  for (std::size_t i = 0; i < files.size(); ++i) {
    std::string reason = results[i].error;
    if (reason.empty()) reason = rejection_reason(results[i].samples, limits);
    if (!reason.empty()) {
      skipped.push_back({files[i].string(), reason});
      ++skipped_here;
      continue;
    }
    const auto voice = voices.find(key_of(files[i]));
    collection.clips.push_back({files[i].string(), voice == voices.end() ? "" : voice->second,
                                std::move(results[i].samples)});
  }
  if (collection.clips.empty()) {
    throw Error(fmt::format("no usable clip in '{}': all {} files were skipped (e.g. '{}' {})",
                            spec.path.string(), skipped_here, skipped.back().path,
                            skipped.back().reason));
  }
  return collection;
}

}  // namespace

std::size_t LoadedSources::clip_count() const {
  std::size_t count = 0;
  for (const SourceCollection& collection : collections)
    count += collection.clips.size();
  return count;
}

SourceSpec SourceSpec::parse(const std::string& argument) {
  std::error_code error;
  const auto colon = argument.rfind(':');
  if (fs::exists(argument, error) || colon == std::string::npos || colon == 0) {
    return {argument, 1.0};
  }
  const std::string weight_text = argument.substr(colon + 1);
  double weight = 0;
  const auto [end, status] =
      std::from_chars(weight_text.data(), weight_text.data() + weight_text.size(), weight);
  if (status != std::errc() || end != weight_text.data() + weight_text.size()) {
    return {argument, 1.0};  // not a weight: let the path check report it
  }
  if (!(weight > 0)) {
    throw Error(fmt::format("source '{}': weight must be > 0, got {}", argument, weight_text));
  }
  return {argument.substr(0, colon), weight};
}

std::vector<std::pair<fs::path, std::string>> read_voice_manifest(const fs::path& directory) {
  const fs::path path = directory / kVoiceManifestName;
  std::ifstream in(path);
  if (!in) return {};
  std::string line;
  if (!std::getline(in, line)) return {};
  if (!line.empty() && line.back() == '\r') line.pop_back();
  const std::vector<std::string> header = split_tabs(line);
  const auto column = [&](const std::string& name) {
    return static_cast<std::size_t>(std::find(header.begin(), header.end(), name) - header.begin());
  };
  const std::size_t file_column = column("file");
  std::size_t voice_column = column("voice");
  if (voice_column == header.size()) voice_column = column("speaker");
  if (file_column == header.size()) {
    throw Error(
        fmt::format("manifest '{}' needs a tab-separated header with a 'file' column "
                    "(and a 'voice' or 'speaker' column for voices)",
                    path.string()));
  }
  if (voice_column == header.size()) return {};  // a manifest without voices (e.g. noise)
  std::vector<std::pair<fs::path, std::string>> voices;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::vector<std::string> fields = split_tabs(line);
    if (fields.size() <= std::max(file_column, voice_column)) continue;
    voices.emplace_back((directory / fields[file_column]).lexically_normal(), fields[voice_column]);
  }
  return voices;
}

LoadedSources load_sources(std::span<const SourceSpec> specs, const SourceLimits& limits,
                           int threads) {
  LoadedSources loaded;
  for (const SourceSpec& spec : specs) {
    loaded.collections.push_back(load_collection(spec, limits, threads, loaded.skipped));
  }
  return loaded;
}

}  // namespace earshot
