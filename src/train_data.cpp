// Training data: loading datasets into features, splitting, and feature statistics
// (train.hpp).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>

#include "earshot/audio_io.hpp"
#include "earshot/error.hpp"
#include "earshot/train.hpp"
#include "earshot/train_network.hpp"
#include "train_parallel.hpp"

namespace earshot {
namespace {

struct LoadJob {
  const std::filesystem::path* dataset_dir;
  const ClipRecord* record;
};

// The clip's features, or the reason it cannot be used.
std::optional<TrainingClip> load_clip(const LoadJob& job, const FrontEndConfig& frontend,
                                      std::string& problem) {
  const std::filesystem::path audio_path = *job.dataset_dir / job.record->file;
  try {
    const std::vector<float> samples = read_audio(audio_path);
    TrainingClip clip{*job.dataset_dir, *job.record, compute_features(samples, frontend), 0};
    clip.num_frames = clip.features.size() / static_cast<std::size_t>(frontend.feature_dim());
    if (clip.num_frames == 0) {
      problem = fmt::format("skipped clip '{}': its {} samples are fewer than one feature frame",
                            audio_path.string(), samples.size());
      return std::nullopt;
    }
    return clip;
  } catch (const Error& e) {
    // The reader's message names the file already.
    problem = fmt::format("skipped clip {} of '{}': {}", job.record->index,
                          job.dataset_dir->string(), e.what());
    return std::nullopt;
  }
}

std::uint64_t hash_text(const std::string& text) {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (const char c : text)
    hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  return hash;
}

}  // namespace

LoadedClips load_training_clips(const std::vector<std::filesystem::path>& dataset_dirs,
                                const FrontEndConfig& frontend, int threads) {
  frontend.validate();
  std::vector<std::vector<ClipRecord>> manifests;
  for (const auto& dir : dataset_dirs)
    manifests.push_back(read_manifest(dir));
  std::vector<LoadJob> jobs;
  for (std::size_t d = 0; d < dataset_dirs.size(); ++d) {
    for (const ClipRecord& record : manifests[d])
      jobs.push_back({&dataset_dirs[d], &record});
  }

  std::vector<std::optional<TrainingClip>> loaded(jobs.size());
  std::vector<std::string> problems(jobs.size());
  train::parallel_for(threads, jobs.size(), [&](std::size_t i) {
    loaded[i] = load_clip(jobs[i], frontend, problems[i]);
  });

  LoadedClips result;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    if (loaded[i]) {
      result.clips.push_back(std::move(*loaded[i]));
    } else {
      result.skipped.push_back(std::move(problems[i]));
    }
  }
  return result;
}

ClipSplit split_clips(std::vector<TrainingClip> clips, const ClipPredicate& is_validation) {
  ClipSplit split;
  for (TrainingClip& clip : clips) {
    (is_validation(clip) ? split.validation : split.training).push_back(std::move(clip));
  }
  return split;
}

ClipPredicate random_fraction(double fraction, std::uint64_t seed) {
  if (!(fraction >= 0.0 && fraction <= 1.0)) {
    throw Error(fmt::format("validation fraction must be in [0, 1], got {}", fraction));
  }
  return [fraction, seed](const TrainingClip& clip) {
    // The directory's own name, so the same dataset splits the same way however its path is
    // spelled.
    std::filesystem::path normal = clip.dataset_dir.lexically_normal();
    if (normal.filename().empty()) normal = normal.parent_path();  // "set/" -> "set"
    const std::string name = normal.filename().string();
    const std::uint64_t hash =
        train::mix_seed(train::mix_seed(seed, hash_text(name)), clip.record.index);
    return static_cast<double>(hash >> 11) * 0x1.0p-53 < fraction;
  };
}

FeatureStatistics feature_statistics(const std::vector<TrainingClip>& clips, int feature_dim) {
  Eigen::VectorXd sum = Eigen::VectorXd::Zero(feature_dim);
  Eigen::VectorXd sum_squares = Eigen::VectorXd::Zero(feature_dim);
  double frames = 0;
  for (const TrainingClip& clip : clips) {
    if (clip.features.size() != clip.num_frames * static_cast<std::size_t>(feature_dim)) {
      throw Error(fmt::format("clip '{}' has {} feature values for {} frames of {}",
                              clip.record.file, clip.features.size(), clip.num_frames,
                              feature_dim));
    }
    const Eigen::MatrixXd values =
        Eigen::Map<const Eigen::MatrixXf>(clip.features.data(), feature_dim,
                                          static_cast<Eigen::Index>(clip.num_frames))
            .cast<double>();
    sum += values.rowwise().sum();
    sum_squares += values.cwiseAbs2().rowwise().sum();
    frames += static_cast<double>(clip.num_frames);
  }
  if (frames == 0) throw Error("feature statistics: no frames in the training clips");
  FeatureStatistics stats;
  for (int d = 0; d < feature_dim; ++d) {
    const double mean = sum(d) / frames;
    const double variance = std::max(sum_squares(d) / frames - mean * mean, 0.0);
    stats.mean.push_back(static_cast<float>(mean));
    stats.std.push_back(static_cast<float>(std::max(std::sqrt(variance), 1e-3)));
  }
  return stats;
}

}  // namespace earshot
