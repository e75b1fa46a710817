// Model <-> model file contents: the metadata JSON, the named tensors, save and load.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <utility>

#include "earshot/error.hpp"
#include "earshot/model_file.hpp"

namespace earshot {
namespace {

constexpr const char* kGruVariant = "reset_after";
using RowMajorMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

std::string dims_text(const std::vector<std::uint64_t>& dims) {
  return fmt::format("[{}]", fmt::join(dims, ", "));
}

NamedTensor vector_tensor(std::string name, const Eigen::VectorXf& values) {
  return {std::move(name),
          {static_cast<std::uint64_t>(values.size())},
          std::vector<float>(values.data(), values.data() + values.size())};
}

// Row-major values of a matrix, with the given dims (whose product is rows * cols).
NamedTensor matrix_tensor(std::string name, const Eigen::MatrixXf& matrix,
                          std::vector<std::uint64_t> dims) {
  std::vector<float> values(static_cast<std::size_t>(matrix.size()));
  Eigen::Map<RowMajorMatrix>(values.data(), matrix.rows(), matrix.cols()) = matrix;
  return {std::move(name), std::move(dims), std::move(values)};
}

// Tensor names of ensemble member m start with this: nothing for the first member, so a
// single model's file is the same as before ensembles existed.
std::string member_prefix(std::size_t member) {
  return member == 0 ? std::string() : fmt::format("member{}.", member);
}

// The dims every tensor of a model with this shape and number of members must have, in file
// order.
std::vector<std::pair<std::string, std::vector<std::uint64_t>>> expected_tensors(
    const ModelShape& shape, std::size_t members) {
  using Dims = std::vector<std::uint64_t>;
  const auto dim = static_cast<std::uint64_t>(shape.feature_dim);
  const auto filters = static_cast<std::uint64_t>(shape.conv_filters);
  std::vector<std::pair<std::string, Dims>> specs = {{"input.mean", {dim}}, {"input.std", {dim}}};
  for (std::size_t m = 0; m < members; ++m) {
    const std::string prefix = member_prefix(m);
    specs.push_back(
        {prefix + "conv.weight", {filters, static_cast<std::uint64_t>(shape.conv_kernel), dim}});
    specs.push_back({prefix + "conv.bias", {filters}});
    std::uint64_t input_size = filters;
    for (std::size_t i = 0; i < shape.gru_sizes.size(); ++i) {
      const auto h = static_cast<std::uint64_t>(shape.gru_sizes[i]);
      specs.push_back({fmt::format("{}gru{}.input_weight", prefix, i), {3 * h, input_size}});
      specs.push_back({fmt::format("{}gru{}.hidden_weight", prefix, i), {3 * h, h}});
      specs.push_back({fmt::format("{}gru{}.input_bias", prefix, i), {3 * h}});
      specs.push_back({fmt::format("{}gru{}.hidden_bias", prefix, i), {3 * h}});
      input_size = h;
    }
    specs.push_back({prefix + "dense.weight", {1, input_size}});
    specs.push_back({prefix + "dense.bias", {1}});
  }
  return specs;
}

// The file's tensors by name, checked against the metadata's shape: exactly the expected
// set, each with the expected dims and only finite values.
std::map<std::string, const NamedTensor*> check_tensors(const std::filesystem::path& path,
                                                        const ModelFileContents& contents,
                                                        const ModelShape& shape,
                                                        std::size_t members) {
  std::map<std::string, const NamedTensor*> by_name;
  for (const NamedTensor& tensor : contents.tensors) {
    if (!by_name.emplace(tensor.name, &tensor).second) {
      throw Error(
          fmt::format("model file '{}' holds tensor '{}' twice", path.string(), tensor.name));
    }
  }
  const auto specs = expected_tensors(shape, members);
  const std::string shape_text = nlohmann::json(shape).dump();
  for (const auto& [name, dims] : specs) {
    const auto found = by_name.find(name);
    if (found == by_name.end()) {
      throw Error(fmt::format("model file '{}' lacks tensor '{}' that its shape {} requires",
                              path.string(), name, shape_text));
    }
    const NamedTensor& tensor = *found->second;
    if (tensor.dims != dims) {
      throw Error(fmt::format(
          "model file '{}': tensor '{}' has dims {} but the metadata's shape {} needs {}",
          path.string(), name, dims_text(tensor.dims), shape_text, dims_text(dims)));
    }
    const auto bad = std::find_if(tensor.values.begin(), tensor.values.end(),
                                  [](float v) { return !std::isfinite(v); });
    if (bad != tensor.values.end()) {
      throw Error(fmt::format("model file '{}': tensor '{}' holds a non-finite value ({}) at {}",
                              path.string(), name, *bad, bad - tensor.values.begin()));
    }
  }
  if (by_name.size() != specs.size()) {
    for (const NamedTensor& tensor : contents.tensors) {
      const bool known = std::any_of(specs.begin(), specs.end(),
                                     [&](const auto& spec) { return spec.first == tensor.name; });
      if (!known) {
        throw Error(fmt::format("model file '{}' holds unexpected tensor '{}'", path.string(),
                                tensor.name));
      }
    }
  }
  return by_name;
}

Eigen::VectorXf to_vector(const NamedTensor& tensor) {
  return Eigen::Map<const Eigen::VectorXf>(tensor.values.data(),
                                           static_cast<Eigen::Index>(tensor.values.size()));
}

// A tensor whose values are a row-major rows x (everything else) matrix.
Eigen::MatrixXf to_matrix(const NamedTensor& tensor) {
  const auto rows = static_cast<Eigen::Index>(tensor.dims.front());
  const auto cols = static_cast<Eigen::Index>(tensor.values.size()) / rows;
  return Eigen::Map<const RowMajorMatrix>(tensor.values.data(), rows, cols);
}

ModelWeights member_weights(const ModelShape& shape,
                            const std::map<std::string, const NamedTensor*>& tensors,
                            std::size_t member) {
  const std::string prefix = member_prefix(member);
  const auto tensor = [&](const std::string& name) { return tensors.at(prefix + name); };
  ModelWeights weights;
  weights.conv_weights = to_matrix(*tensor("conv.weight"));
  weights.conv_bias = to_vector(*tensor("conv.bias"));
  for (std::size_t i = 0; i < shape.gru_sizes.size(); ++i) {
    const auto part = [&](const char* name) { return tensor(fmt::format("gru{}.{}", i, name)); };
    weights.gru.push_back({to_matrix(*part("input_weight")), to_matrix(*part("hidden_weight")),
                           to_vector(*part("input_bias")), to_vector(*part("hidden_bias"))});
  }
  weights.dense_weights = to_vector(*tensor("dense.weight"));
  weights.dense_bias = tensor("dense.bias")->values.front();
  return weights;
}

// The file's "ensemble_members" (absent in a single model's file): an integer >= 1.
std::size_t ensemble_members(const nlohmann::json& json) {
  const auto found = json.find("ensemble_members");
  if (found == json.end()) return 1;
  if (!found->is_number_unsigned() || found->get<std::uint64_t>() < 1 ||
      found->get<std::uint64_t>() > kMaxEnsembleMembers) {
    throw Error(
        fmt::format("model metadata: ensemble_members must be an integer from 1 to {}, got {}",
                    kMaxEnsembleMembers, found->dump()));
  }
  return found->get<std::size_t>();
}

template <typename T>
T metadata_field(const nlohmann::json& json, const char* key) {
  if (!json.contains(key)) throw Error(fmt::format("model metadata: missing field '{}'", key));
  try {
    return json.at(key).get<T>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("model metadata: field '{}' has the wrong type: {}", key, e.what()));
  }
}

}  // namespace

nlohmann::json metadata_to_json(const ModelMetadata& metadata) {
  return nlohmann::json{{"keywords", metadata.keywords},
                        {"frontend", metadata.frontend},
                        {"shape", metadata.shape},
                        {"gru_variant", kGruVariant},
                        {"label_window_s", metadata.label_window_s},
                        {"default_threshold", metadata.default_threshold},
                        {"provenance", metadata.provenance}};
}

ModelMetadata metadata_from_json(const nlohmann::json& json) {
  ModelMetadata metadata;
  metadata.keywords = metadata_field<std::vector<std::string>>(json, "keywords");
  metadata.frontend = metadata_field<FrontEndConfig>(json, "frontend");
  metadata.shape = metadata_field<ModelShape>(json, "shape");
  const auto variant = metadata_field<std::string>(json, "gru_variant");
  if (variant != kGruVariant) {
    throw Error(fmt::format("model metadata: gru_variant is \"{}\"; this build runs only \"{}\"",
                            variant, kGruVariant));
  }
  metadata.label_window_s = metadata_field<double>(json, "label_window_s");
  metadata.default_threshold = metadata_field<float>(json, "default_threshold");
  metadata.provenance = json.value("provenance", nlohmann::json::object());
  return metadata;
}

std::vector<NamedTensor> model_tensors(const Model& model) {
  const ModelMetadata& metadata = model.metadata();
  const ModelShape& shape = model.shape();
  const auto dim = static_cast<std::uint64_t>(shape.feature_dim);
  std::vector<NamedTensor> tensors;
  tensors.push_back({"input.mean", {dim}, metadata.feature_mean});
  tensors.push_back({"input.std", {dim}, metadata.feature_std});
  for (std::size_t m = 0; m < model.members().size(); ++m) {
    const ModelWeights& weights = model.members()[m];
    const std::string prefix = member_prefix(m);
    tensors.push_back(matrix_tensor(prefix + "conv.weight", weights.conv_weights,
                                    {static_cast<std::uint64_t>(shape.conv_filters),
                                     static_cast<std::uint64_t>(shape.conv_kernel), dim}));
    tensors.push_back(vector_tensor(prefix + "conv.bias", weights.conv_bias));
    for (std::size_t i = 0; i < weights.gru.size(); ++i) {
      const GruWeights& gru = weights.gru[i];
      const auto rows = static_cast<std::uint64_t>(gru.input_weights.rows());
      const auto name = [&](const char* part) {
        return fmt::format("{}gru{}.{}", prefix, i, part);
      };
      tensors.push_back(
          matrix_tensor(name("input_weight"), gru.input_weights,
                        {rows, static_cast<std::uint64_t>(gru.input_weights.cols())}));
      tensors.push_back(
          matrix_tensor(name("hidden_weight"), gru.hidden_weights,
                        {rows, static_cast<std::uint64_t>(gru.hidden_weights.cols())}));
      tensors.push_back(vector_tensor(name("input_bias"), gru.input_bias));
      tensors.push_back(vector_tensor(name("hidden_bias"), gru.hidden_bias));
    }
    tensors.push_back(matrix_tensor(prefix + "dense.weight", weights.dense_weights.transpose(),
                                    {1, static_cast<std::uint64_t>(weights.dense_weights.size())}));
    tensors.push_back({prefix + "dense.bias", {1}, {weights.dense_bias}});
  }
  return tensors;
}

void save_model(const std::filesystem::path& path, const Model& model) {
  nlohmann::json metadata = metadata_to_json(model.metadata());
  if (model.members().size() > 1) metadata["ensemble_members"] = model.members().size();
  write_model_file(path, {std::move(metadata), model_tensors(model)});
}

Model load_model(const std::filesystem::path& path) {
  const ModelFileContents contents = read_model_file(path);
  try {
    ModelMetadata metadata = metadata_from_json(contents.metadata);
    const std::size_t members = ensemble_members(contents.metadata);
    const auto tensors = check_tensors(path, contents, metadata.shape, members);
    metadata.feature_mean = tensors.at("input.mean")->values;
    metadata.feature_std = tensors.at("input.std")->values;
    std::vector<ModelWeights> weights;
    for (std::size_t m = 0; m < members; ++m)
      weights.push_back(member_weights(metadata.shape, tensors, m));
    return Model(std::move(metadata), std::move(weights));
  } catch (const Error& e) {
    const std::string message = e.what();
    if (message.starts_with("model file '")) throw;
    throw Error(fmt::format("model file '{}': {}", path.string(), message));
  }
}

}  // namespace earshot
