// ModelShape: sizes, their checks, their JSON form, and the timing they imply.
#include <fmt/format.h>

#include <string>

#include "earshot/error.hpp"
#include "earshot/model.hpp"

namespace earshot {
namespace {

// Generous bounds that no real model reaches; they stop a corrupt file from asking for
// gigabytes before any tensor is read.
constexpr int kMaxLayerSize = 4096;
constexpr int kMaxKernel = 1024;
constexpr std::size_t kMaxGruLayers = 16;

void check_size(const char* what, int value, int max_value) {
  if (value < 1 || value > max_value) {
    throw Error(fmt::format("model shape: {} must be in [1, {}], got {}", what, max_value, value));
  }
}

template <typename T>
T shape_field(const nlohmann::json& j, const char* key) {
  if (!j.contains(key)) throw Error(fmt::format("model shape: missing field '{}'", key));
  try {
    return j.at(key).get<T>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("model shape: field '{}' has the wrong type: {}", key, e.what()));
  }
}

}  // namespace

std::size_t ModelShape::num_outputs(std::size_t num_frames) const {
  const auto kernel = static_cast<std::size_t>(conv_kernel);
  const auto stride = static_cast<std::size_t>(conv_stride);
  return num_frames < kernel ? 0 : 1 + (num_frames - kernel) / stride;
}

std::size_t ModelShape::num_parameters() const {
  std::size_t count = static_cast<std::size_t>(conv_filters) * (conv_kernel * feature_dim + 1);
  std::size_t input_size = static_cast<std::size_t>(conv_filters);
  for (const int hidden : gru_sizes) {
    const auto h = static_cast<std::size_t>(hidden);
    count += 3 * h * (input_size + h + 2);
    input_size = h;
  }
  return count + input_size + 1;
}

void ModelShape::validate() const {
  check_size("feature_dim", feature_dim, 1 << 16);
  check_size("conv_filters", conv_filters, kMaxLayerSize);
  check_size("conv_kernel", conv_kernel, kMaxKernel);
  check_size("conv_stride", conv_stride, kMaxKernel);
  if (conv_stride > conv_kernel) {
    throw Error(fmt::format(
        "model shape: conv_stride ({}) must not exceed conv_kernel ({}): frames between "
        "windows would never be seen",
        conv_stride, conv_kernel));
  }
  if (gru_sizes.empty() || gru_sizes.size() > kMaxGruLayers) {
    throw Error(fmt::format("model shape: need 1 to {} GRU layers, got {}", kMaxGruLayers,
                            gru_sizes.size()));
  }
  for (std::size_t i = 0; i < gru_sizes.size(); ++i) {
    check_size(fmt::format("gru_sizes[{}]", i).c_str(), gru_sizes[i], kMaxLayerSize);
  }
}

void to_json(nlohmann::json& j, const ModelShape& shape) {
  j = nlohmann::json{{"feature_dim", shape.feature_dim},
                     {"conv_filters", shape.conv_filters},
                     {"conv_kernel", shape.conv_kernel},
                     {"conv_stride", shape.conv_stride},
                     {"gru_sizes", shape.gru_sizes}};
}

void from_json(const nlohmann::json& j, ModelShape& shape) {
  if (!j.is_object()) {
    throw Error(fmt::format("model shape: expected a JSON object, got {}", j.type_name()));
  }
  ModelShape parsed;
  parsed.feature_dim = shape_field<int>(j, "feature_dim");
  parsed.conv_filters = shape_field<int>(j, "conv_filters");
  parsed.conv_kernel = shape_field<int>(j, "conv_kernel");
  parsed.conv_stride = shape_field<int>(j, "conv_stride");
  parsed.gru_sizes = shape_field<std::vector<int>>(j, "gru_sizes");
  parsed.validate();
  shape = parsed;
}

double output_step_s(const ModelShape& shape, const FrontEndConfig& frontend) {
  return shape.conv_stride * frontend.hop_s();
}

double receptive_field_s(const ModelShape& shape, const FrontEndConfig& frontend) {
  const double samples =
      static_cast<double>(shape.conv_kernel - 1) * frontend.hop_samples + frontend.window_samples;
  return samples / frontend.sample_rate;
}

}  // namespace earshot
