// Ensembles: checking that models can be averaged, and moving each one onto a shared
// feature normalisation so one ModelStream window serves them all.
#include "earshot/model_ensemble.hpp"

#include <fmt/format.h>

#include <string>

#include "earshot/error.hpp"

namespace earshot {
namespace {

// Why `other` cannot be averaged with `first`, or an empty string.
std::string difference(const ModelMetadata& first, const ModelMetadata& other) {
  if (other.keywords != first.keywords) return "detects other keywords";
  if (!(other.frontend == first.frontend)) return "reads other features (front end)";
  if (!(other.shape == first.shape)) return "has another network shape";
  if (other.label_window_s != first.label_window_s) return "was trained with another label window";
  return {};
}

double mean_trigger_duration_s(const std::vector<Model>& models) {
  double sum = 0.0;
  for (const Model& model : models) {
    const nlohmann::json& provenance = model.metadata().provenance;
    if (!provenance.is_object() || !provenance.contains("mean_trigger_duration_s") ||
        !provenance["mean_trigger_duration_s"].is_number()) {
      return 0.0;
    }
    sum += provenance["mean_trigger_duration_s"].get<double>();
  }
  return sum / static_cast<double>(models.size());
}

}  // namespace

ModelWeights renormalised(const ModelWeights& weights, const ModelShape& shape,
                          const std::vector<float>& from_mean, const std::vector<float>& from_std,
                          const std::vector<float>& to_mean, const std::vector<float>& to_std) {
  // The network reads u = (x - from_mean) / from_std; it will be given
  // v = (x - to_mean) / to_std, so u = v * (to_std / from_std) + (to_mean - from_mean) / from_std:
  // each weight column scales by to_std / from_std and the offset moves into the bias.
  const int dim = shape.feature_dim;
  ModelWeights result = weights;
  for (int t = 0; t < shape.conv_kernel; ++t) {
    for (int d = 0; d < dim; ++d) {
      const auto column = static_cast<Eigen::Index>(t * dim + d);
      const auto i = static_cast<std::size_t>(d);
      const double scale = double(to_std[i]) / from_std[i];
      const double offset = (double(to_mean[i]) - from_mean[i]) / from_std[i];
      result.conv_bias += weights.conv_weights.col(column) * static_cast<float>(offset);
      result.conv_weights.col(column) *= static_cast<float>(scale);
    }
  }
  return result;
}

Model make_ensemble(const std::vector<Model>& models, nlohmann::json provenance) {
  std::size_t networks = 0;
  for (const Model& model : models)
    networks += model.members().size();
  if (networks < 2 || networks > kMaxEnsembleMembers) {
    throw Error(fmt::format("an ensemble needs from 2 to {} networks, got {}", kMaxEnsembleMembers,
                            networks));
  }
  const ModelMetadata& first = models.front().metadata();
  ModelMetadata metadata = first;
  std::vector<ModelWeights> members;
  float threshold_sum = 0.0f;
  nlohmann::json member_provenance = nlohmann::json::array();
  for (std::size_t i = 0; i < models.size(); ++i) {
    const ModelMetadata& m = models[i].metadata();
    if (const std::string why = difference(first, m); !why.empty()) {
      throw Error(fmt::format("model {} {} than model 1: they cannot be averaged", i + 1, why));
    }
    for (const ModelWeights& weights : models[i].members()) {
      members.push_back(renormalised(weights, m.shape, m.feature_mean, m.feature_std,
                                     first.feature_mean, first.feature_std));
    }
    threshold_sum += m.default_threshold;
    member_provenance.push_back(m.provenance);
  }
  metadata.default_threshold = threshold_sum / static_cast<float>(models.size());
  metadata.provenance = provenance.is_object() ? std::move(provenance) : nlohmann::json::object();
  metadata.provenance["ensemble_of"] = std::move(member_provenance);
  if (const double duration_s = mean_trigger_duration_s(models); duration_s > 0.0) {
    metadata.provenance["mean_trigger_duration_s"] = duration_s;
  }
  return Model(std::move(metadata), std::move(members));
}

}  // namespace earshot
