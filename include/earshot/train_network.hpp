// The training network: the layers of train_layers.hpp assembled in the order of model.hpp,
// with BatchNorm in training mode and dropout, run over mini-batches of clips.
//
//   features [-> warp] -> normalise [-> masks] -> Conv1D -> BatchNorm -> ReLU -> dropout
//            -> [GRU -> dropout] x N -> Dense(1) -> weighted BCE against the labels
//
// Dropout acts on the input of every GRU layer and of the dense layer. All parameters live
// in one flat vector (layout below); gradients use the same layout. export_model() folds
// BatchNorm's running statistics into the convolution and returns the inference Model.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "earshot/model.hpp"
#include "earshot/train_augment.hpp"
#include "earshot/train_frequency_warp.hpp"
#include "earshot/train_layers.hpp"

namespace earshot::train {

template <typename T>
struct NetworkParams {
  Conv1dParams<T> conv;
  BatchNormParams<T> batch_norm;
  std::vector<GruParams<T>> gru;
  DenseParams<T> dense;
};

// Where each layer's parameters sit in the flat vector: conv, batch_norm, gru[0..N-1], dense.
struct NetworkLayout {
  explicit NetworkLayout(const ModelShape& shape);

  ModelShape shape;
  Conv1dShape conv;
  BatchNormShape batch_norm;
  std::vector<GruShape> gru;
  DenseShape dense;

  Index num_parameters() const;
  Index batch_norm_offset() const { return conv.num_parameters(); }

  template <typename T>
  NetworkParams<T> view(T* data) const {
    std::vector<GruParams<T>> gru_params;
    T* next = data + batch_norm_offset() + batch_norm.num_parameters();
    for (const GruShape& layer : gru) {
      gru_params.push_back(layer.view(next));
      next += layer.num_parameters();
    }
    return {conv.view(data), batch_norm.view(data + batch_norm_offset()), std::move(gru_params),
            dense.view(next)};
  }
};

// Two seeds combined into one well-mixed seed (SplitMix64 finaliser), for per-clip and
// per-layer random streams that do not depend on the order work is done in.
std::uint64_t mix_seed(std::uint64_t a, std::uint64_t b);

// Initial parameters: He-uniform convolution (it feeds a ReLU), BatchNorm gamma 1 beta 0,
// GRU weights uniform in +-1/sqrt(H) (PyTorch's choice), Glorot-uniform dense, zero biases.
template <typename T>
Vector<T> initial_parameters(const NetworkLayout& layout, std::uint64_t seed);

// One clip as the trainer feeds it.
struct ClipExample {
  std::span<const float> features;  // row-major, frames x feature_dim, straight from the front end
  std::span<const float> labels;    // one per output step: shape.num_outputs(frames)
  std::uint64_t dropout_seed = 0;   // the clip's dropout masks depend on this alone
};

struct GradientOptions {
  StepLossWeights loss_weights;            // of each output step's cross-entropy term
  double dropout = 0.0;                    // drop probability at every dropout site
  FeatureMasking masking;                  // of each clip's input, seeded by its dropout_seed
  FrequencyWarp warp;                      // of each clip's raw features, seeded likewise
  std::vector<double> feature_centres_hz;  // where the features sit (needed by the warp)
};

template <typename T>
class TrainingNetwork {
 public:
  // `feature_mean`/`feature_std` normalise the raw features exactly as Model does.
  TrainingNetwork(const ModelShape& shape, std::vector<float> feature_mean,
                  std::vector<float> feature_std, int threads);
  ~TrainingNetwork();
  TrainingNetwork(TrainingNetwork&&) noexcept;
  TrainingNetwork& operator=(TrainingNetwork&&) noexcept;

  const NetworkLayout& layout() const { return layout_; }

  // The batch's weighted BCE, averaged over all its output steps, in training mode (BatchNorm
  // with batch statistics, dropout), and its gradient with respect to `parameters` (written
  // into `gradient`). `batch_moments` receives the batch's BatchNorm statistics for the
  // running averages. Clips are spread over the threads, but each clip's gradient is kept
  // apart and the clips are summed in batch order, so the result is the same for any thread
  // count and timing.
  double loss_and_gradient(const Vector<T>& parameters, std::span<const ClipExample> batch,
                           const GradientOptions& options, Vector<T>& gradient,
                           BatchNormMoments& batch_moments);

  // Probabilities for one clip in inference mode (running statistics, no dropout).
  Vector<T> predict(const Vector<T>& parameters, const BatchNormRunningStats& running,
                    std::span<const float> features) const;

 private:
  struct Workspace;
  void forward_convolution(const NetworkParams<T>& params, const ClipExample& clip,
                           const GradientOptions& options, Workspace& work) const;
  void forward_backward_recurrent(const NetworkParams<T>& params, const BatchNormStats<T>& stats,
                                  const ClipExample& clip, const GradientOptions& options,
                                  double loss_scale, Workspace& work) const;
  void backward_convolution(const NetworkParams<T>& params, const BatchNormStats<T>& stats,
                            const BatchNormParams<T>& batch_norm_totals, double batch_steps,
                            Workspace& work) const;

  NetworkLayout layout_;
  Eigen::VectorXf feature_mean_;
  Eigen::VectorXf feature_inv_std_;
  int threads_;
  std::vector<std::unique_ptr<Workspace>> workspaces_;  // one per clip of the largest batch
};

// The inference model for these parameters: BatchNorm (with the running statistics) folded
// into the convolution, converted to float. `metadata.shape` must equal the layout's shape and
// carry the feature normalisation the network was trained with.
template <typename T>
Model export_model(const NetworkLayout& layout, const Vector<T>& parameters,
                   const BatchNormRunningStats& running, ModelMetadata metadata);

}  // namespace earshot::train
