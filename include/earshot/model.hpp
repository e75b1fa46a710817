// The trigger-word network for inference: immutable weights shared by any number of streams,
// and the per-stream state that runs it one feature frame at a time.
//
// Architecture (sizes come from ModelShape):
//
//   feature frame (feature_dim values)
//     -> normalise: (x - feature_mean) / feature_std, fixed values from the model file
//     -> Conv1D over time: conv_filters filters, kernel conv_kernel frames, stride conv_stride,
//        "valid" (output j reads frames [j*s, j*s + k)), BatchNorm folded in, ReLU
//     -> GRU layers of sizes gru_sizes[0], gru_sizes[1], ... (unidirectional, zero initial state)
//     -> Dense(1) + sigmoid: one probability per output step
//
// Output step j stands for time j * output_step_s(), output_step_s() = conv_stride * hop_s.
// F frames give num_outputs(F) = F < k ? 0 : 1 + (F - k) / s outputs.
//
// GRU variant: "reset after" (the cuDNN / PyTorch nn.GRU formulation). With gate rows stacked
// in the order reset r, update z, candidate n:
//   r  = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
//   z  = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
//   n  = tanh(W_in x + b_in + r * (W_hn h + b_hn))
//   h' = (1 - z) * n + z * h
// The reset gate multiplies the whole hidden projection including its bias, which lets one
// matrix-vector product W_h h serve all three gates. PyTorch GRU weights load unchanged.
//
// Ensembles: a model may hold several member networks of this one shape (ModelWeights each)
// that read the same normalised frames. Its probability is the mean of the members'
// probabilities. Members trained from different seeds make different mistakes, so the mean
// is steadier on the rare negatives that fool one of them; each member adds its network's
// cost, the front end is shared. model_ensemble.hpp builds one from single models.
#pragma once

#include <Eigen/Core>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "earshot/frontend.hpp"

namespace earshot {

// Layer sizes: everything about the network that is a number rather than a design choice.
struct ModelShape {
  int feature_dim = 40;  // values per input frame, FrontEndConfig::feature_dim()
  int conv_filters = 64;
  int conv_kernel = 5;  // frames per convolution window
  int conv_stride = 4;  // frames between output steps
  std::vector<int> gru_sizes = {64, 64};

  // Output steps for `num_frames` input frames (formula in the file comment).
  std::size_t num_outputs(std::size_t num_frames) const;
  // Trainable values of the inference network (BatchNorm folded, so not counted).
  std::size_t num_parameters() const;
  // Throws earshot::Error if a size is not positive or the stride exceeds the kernel (frames
  // would be skipped).
  void validate() const;
  bool operator==(const ModelShape&) const = default;
};

void to_json(nlohmann::json& j, const ModelShape& shape);
void from_json(const nlohmann::json& j, ModelShape& shape);

// Everything a model carries besides its weights (see model_file.hpp for how it is stored).
struct ModelMetadata {
  std::vector<std::string> keywords = {"activate"};
  FrontEndConfig frontend;
  ModelShape shape;
  // Per-dimension feature normalisation computed on the training clips (feature_dim values
  // each; every std > 0).
  std::vector<float> feature_mean;
  std::vector<float> feature_std;
  // Labels were 1 for this long after each trigger word ended.
  double label_window_s = 0.5;
  // The operating threshold a detector uses unless told otherwise.
  float default_threshold = 0.5f;
  // Free-form: training data, command line, date, metrics. Never interpreted by the library.
  nlohmann::json provenance = nlohmann::json::object();
};

// Seconds between output steps: conv_stride * hop_s.
double output_step_s(const ModelShape& shape, const FrontEndConfig& frontend);
// Seconds of audio one output's convolution window spans: ((kernel - 1) * hop + window) /
// rate. Output step j (nominal time j * output_step_s) can be computed once the audio up to
// j * output_step_s + receptive_field_s has arrived, so this is the model's streaming latency.
double receptive_field_s(const ModelShape& shape, const FrontEndConfig& frontend);

// Weights of one GRU layer. Rows of the stacked matrices are [reset; update; candidate],
// H rows each.
struct GruWeights {
  Eigen::MatrixXf input_weights;   // 3H x input size
  Eigen::MatrixXf hidden_weights;  // 3H x H
  Eigen::VectorXf input_bias;      // 3H
  Eigen::VectorXf hidden_bias;     // 3H
};

// Inference weights of one network (one ensemble member) with BatchNorm already folded into
// the convolution.
struct ModelWeights {
  // conv_filters x (conv_kernel * feature_dim); column t * feature_dim + d multiplies value d
  // of the t-th frame of the window (oldest first).
  Eigen::MatrixXf conv_weights;
  Eigen::VectorXf conv_bias;  // conv_filters
  std::vector<GruWeights> gru;
  Eigen::VectorXf dense_weights;  // last GRU size
  float dense_bias = 0.0f;
};

// The loaded network. Immutable after construction: share one instance (e.g. through
// std::shared_ptr<const Model>) across threads and streams.
class Model {
 public:
  // Throws earshot::Error if the metadata is inconsistent (front end, shape, normalisation)
  // or a weight's dimensions disagree with the shape.
  Model(ModelMetadata metadata, ModelWeights weights);
  // An ensemble (see the file comment): at least one member, every member of the shape in
  // the metadata. Throws earshot::Error as above, naming the member, or if there is none.
  Model(ModelMetadata metadata, std::vector<ModelWeights> members);

  const ModelMetadata& metadata() const { return metadata_; }
  const ModelShape& shape() const { return metadata_.shape; }
  // The member networks: one for a single model.
  const std::vector<ModelWeights>& members() const { return members_; }
  int feature_dim() const { return metadata_.shape.feature_dim; }
  std::size_t num_outputs(std::size_t num_frames) const;
  double output_step_s() const;
  double receptive_field_s() const;

  // Probabilities for a whole sequence (the members' mean): `frames` is row-major,
  // num_frames x feature_dim(). Returns num_outputs(num_frames) values; equals feeding the
  // frames to a fresh ModelStream up to float rounding. Throws earshot::Error if
  // frames.size() != num_frames * feature_dim.
  std::vector<float> forward(std::span<const float> frames, std::size_t num_frames) const;

  // Normalisation as multiply-add factors: normalised = (x - mean) * inv_std.
  const Eigen::VectorXf& feature_mean() const { return feature_mean_; }
  const Eigen::VectorXf& feature_inv_std() const { return feature_inv_std_; }

 private:
  ModelMetadata metadata_;
  std::vector<ModelWeights> members_;
  Eigen::VectorXf feature_mean_;
  Eigen::VectorXf feature_inv_std_;
};

// The state of one stream: the last conv_kernel normalised frames and, for every member,
// every GRU's hidden state. All buffers are allocated by the constructor; push() never
// allocates.
class ModelStream {
 public:
  explicit ModelStream(std::shared_ptr<const Model> model);

  // Consumes one frame (feature_dim values). Returns the next output probability when this
  // frame completes a convolution window: after frame k, k + s, k + 2s, ... (1-based), i.e.
  // output j arrives with frame j * s + k. Throws earshot::Error on a wrong-sized frame.
  std::optional<float> push(std::span<const float> frame);
  // Forgets everything: the next frame starts a new stream (hidden states back to zero).
  void reset();

  const Model& model() const { return *model_; }
  std::uint64_t frames_pushed() const { return frames_pushed_; }
  std::uint64_t outputs_emitted() const { return outputs_emitted_; }

 private:
  // One member network's recurrent state and scratch buffers.
  struct MemberState {
    Eigen::VectorXf conv_out;
    std::vector<Eigen::VectorXf> hidden;
    std::vector<Eigen::VectorXf> input_gates;
    std::vector<Eigen::VectorXf> hidden_gates;
  };

  // The members' mean probability for the window that ends with the latest frame.
  float step();
  // One member's probability for `window`, the last conv_kernel normalised frames.
  static float member_step(const ModelWeights& weights,
                           const Eigen::Ref<const Eigen::VectorXf>& window, MemberState& state);

  std::shared_ptr<const Model> model_;
  // Each frame is written twice, at slot i % k and i % k + k, so the last k frames are
  // always contiguous (oldest first) and the convolution reads them without copying.
  Eigen::VectorXf window_;
  std::vector<MemberState> members_;
  std::uint64_t frames_pushed_ = 0;
  std::uint64_t outputs_emitted_ = 0;
};

}  // namespace earshot
