// Building an ensemble model (model.hpp) from separately trained models.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "earshot/model.hpp"
#include "earshot/model_file.hpp"  // kMaxEnsembleMembers

namespace earshot {

// One model whose probability is the mean of the probabilities of every network in
// `models` (the members of an ensemble among them count one by one).
//
// All models must read the same features and mean the same thing: same keywords, front end,
// shape and label window; throws earshot::Error naming the first model that differs and
// how, or unless 2 to kMaxEnsembleMembers networks are given. Each network keeps its own feature
// normalisation by folding it into its convolution, re-expressed for the first model's
// normalisation, so the ensemble computes the mean of the models' own probabilities up to
// float rounding.
//
// The result's default threshold is the mean of the models' ones: only a starting point,
// since averaging changes how high scores go (calibrate with `earshot eval --calibrate`).
// Its provenance is `provenance` plus "ensemble_of" (each model's provenance, in order) and
// the models' mean "mean_trigger_duration_s" where they all record one.
Model make_ensemble(const std::vector<Model>& models, nlohmann::json provenance);

// `weights`, which read features normalised with mean `from_mean` and standard deviation
// `from_std`, changed to read them normalised with `to_mean` / `to_std` instead and give the
// same outputs: the convolution absorbs the difference. All vectors have feature_dim values.
ModelWeights renormalised(const ModelWeights& weights, const ModelShape& shape,
                          const std::vector<float>& from_mean, const std::vector<float>& from_std,
                          const std::vector<float>& to_mean, const std::vector<float>& to_std);

}  // namespace earshot
