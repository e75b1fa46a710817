// The layers of the training network, each with its forward pass and its exact gradient
// (backpropagation through time for the GRU). Templated on the scalar: training runs in
// float, the gradient tests in double.
//
// Conventions, shared by every layer:
// - A sequence is a matrix with one column per time step (features x steps, column-major),
//   so the frames of one clip and the windows of a convolution are contiguous.
// - Parameters are not owned by the layers: each layer's parameters are Eigen::Map views into
//   one flat vector (see train_network.hpp), so the optimizer, gradient clipping and the sum
//   of per-clip gradients work on plain vectors. `Shape::view(data)` makes the views and
//   `Shape::num_parameters()` says how many values they cover.
// - Gradients use the same views into a second flat vector and are accumulated (+=), so one
//   gradient vector can collect a whole clip.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <span>

namespace earshot::train {

template <typename T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
template <typename T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;
template <typename T>
using MatrixView = Eigen::Map<Matrix<T>>;
template <typename T>
using VectorView = Eigen::Map<Vector<T>>;
using Eigen::Index;

// ---- Conv1D over time, "valid": output j = W * [frames j*s .. j*s+k-1 stacked] + b ----------

template <typename T>
struct Conv1dParams {
  MatrixView<T> weight;  // filters x (kernel * input_dim), column t * input_dim + d
  VectorView<T> bias;    // filters
};

struct Conv1dShape {
  int input_dim = 0;
  int filters = 0;
  int kernel = 1;
  int stride = 1;
  Index num_parameters() const { return static_cast<Index>(filters) * (kernel * input_dim + 1); }
  Index num_outputs(Index num_frames) const {
    return num_frames < kernel ? 0 : 1 + (num_frames - kernel) / stride;
  }
  template <typename T>
  Conv1dParams<T> view(T* data) const {
    const Index window = static_cast<Index>(kernel) * input_dim;
    return {MatrixView<T>(data, filters, window), VectorView<T>(data + filters * window, filters)};
  }
};

// input: input_dim x frames; output: filters x num_outputs(frames).
template <typename T>
void conv1d_forward(const Conv1dShape& shape, const Conv1dParams<T>& params, const Matrix<T>& input,
                    Matrix<T>& output);
// Adds dLoss/dW and dLoss/db to `grad`. The convolution reads the network input, so no
// gradient flows further down.
template <typename T>
void conv1d_backward(const Conv1dShape& shape, const Matrix<T>& input, const Matrix<T>& d_output,
                     Conv1dParams<T>& grad);

// ---- BatchNorm over channels, statistics over every time step of every clip in a batch ------
//
// Training mode needs two batch-wide sums, so a batch runs in three passes:
//   1. per clip: add the clip's conv outputs to BatchNormMoments; sum the clips' moments;
//   2. per clip: batch_norm_forward with the batch stats, the rest of the network forward and
//      backward, then batch_norm_param_grads (the clip's share of dgamma and dbeta);
//      sum the clips' dgamma and dbeta;
//   3. per clip: batch_norm_backward with those totals.

template <typename T>
struct BatchNormParams {
  VectorView<T> gamma;  // channels
  VectorView<T> beta;   // channels
};

struct BatchNormShape {
  int channels = 0;
  double epsilon = 1e-3;  // added to the variance
  Index num_parameters() const { return 2 * static_cast<Index>(channels); }
  template <typename T>
  BatchNormParams<T> view(T* data) const {
    return {VectorView<T>(data, channels), VectorView<T>(data + channels, channels)};
  }
};

// Sums of values and squares per channel, in double whatever the training scalar.
struct BatchNormMoments {
  Eigen::VectorXd sum;
  Eigen::VectorXd sum_squares;
  double count = 0;  // time steps

  void reset(int channels);
  template <typename T>
  void add(const Matrix<T>& values);
  void add(const BatchNormMoments& other);
};

// The normalisation applied: normalized = (x - mean) * inv_std.
template <typename T>
struct BatchNormStats {
  Vector<T> mean;
  Vector<T> inv_std;
};

// Exponential moving averages of the batch statistics, used at inference.
struct BatchNormRunningStats {
  Eigen::VectorXd mean;
  Eigen::VectorXd variance;

  void reset(int channels);  // mean 0, variance 1
  // mean += momentum * (batch_mean - mean); the same for the unbiased batch variance.
  void update(const BatchNormMoments& batch, double momentum);
};

// Batch statistics (biased variance, as training normalises with).
template <typename T>
BatchNormStats<T> batch_norm_stats(const BatchNormMoments& moments, double epsilon);
template <typename T>
BatchNormStats<T> batch_norm_stats(const BatchNormRunningStats& running, double epsilon);

// normalized = (input - mean) * inv_std; output = gamma * normalized + beta.
template <typename T>
void batch_norm_forward(const BatchNormParams<T>& params, const BatchNormStats<T>& stats,
                        const Matrix<T>& input, Matrix<T>& normalized, Matrix<T>& output);
// Adds this clip's dgamma = sum(d_output * normalized) and dbeta = sum(d_output) to `grad`.
template <typename T>
void batch_norm_param_grads(const Matrix<T>& normalized, const Matrix<T>& d_output,
                            BatchNormParams<T>& grad);
// d_input for one clip, given the batch totals of dgamma and dbeta (`batch_grad`) over
// `batch_count` time steps: the mean and variance depend on every step of the batch.
template <typename T>
void batch_norm_backward(const BatchNormParams<T>& params, const BatchNormStats<T>& stats,
                         const BatchNormParams<T>& batch_grad, double batch_count,
                         const Matrix<T>& normalized, const Matrix<T>& d_output,
                         Matrix<T>& d_input);

// ---- ReLU and dropout ----------------------------------------------------------------------

template <typename T>
void relu_forward(Matrix<T>& values);  // in place
// d_values *= (output > 0), where `output` is what relu_forward produced.
template <typename T>
void relu_backward(const Matrix<T>& output, Matrix<T>& d_values);

// Inverted dropout: each entry is 0 with probability `drop_probability`, else
// 1 / (1 - drop_probability), drawn from a generator seeded with `seed` alone. Forward and
// backward are both a multiplication by the mask.
template <typename T>
void make_dropout_mask(double drop_probability, Index rows, Index cols, std::uint64_t seed,
                       Matrix<T>& mask);

// ---- GRU, "reset after" (equations in model.hpp), zero initial state -----------------------

template <typename T>
struct GruParams {
  MatrixView<T> input_weights;   // 3H x input_size, rows [reset; update; candidate]
  MatrixView<T> hidden_weights;  // 3H x H
  VectorView<T> input_bias;      // 3H
  VectorView<T> hidden_bias;     // 3H
};

struct GruShape {
  int input_size = 0;
  int hidden_size = 0;
  Index num_parameters() const {
    return 3 * static_cast<Index>(hidden_size) * (input_size + hidden_size + 2);
  }
  template <typename T>
  GruParams<T> view(T* data) const {
    const Index gates = 3 * static_cast<Index>(hidden_size);
    T* hidden_weights = data + gates * input_size;
    T* input_bias = hidden_weights + gates * hidden_size;
    return {MatrixView<T>(data, gates, input_size),
            MatrixView<T>(hidden_weights, gates, hidden_size), VectorView<T>(input_bias, gates),
            VectorView<T>(input_bias + gates, gates)};
  }
};

// What the forward pass keeps for the backward pass (H x steps each), plus backward scratch.
template <typename T>
struct GruCache {
  Matrix<T> hidden;            // h_t, the layer's output
  Matrix<T> reset;             // r_t
  Matrix<T> update;            // z_t
  Matrix<T> candidate;         // n_t
  Matrix<T> hidden_candidate;  // W_hn h_(t-1) + b_hn, what r_t multiplies
  Matrix<T> input_gates;       // scratch: W_i x + b_i, then dLoss/d(input gates)
  Matrix<T> d_hidden_gates;    // scratch: dLoss/d(W_h h + b_h)
  Vector<T> hidden_gates;      // scratch for one step
  Vector<T> d_state;           // scratch for one step
};

// input: input_size x steps; fills cache.hidden (H x steps) and the rest of the cache.
template <typename T>
void gru_forward(const GruShape& shape, const GruParams<T>& params, const Matrix<T>& input,
                 GruCache<T>& cache);
// Backpropagation through time from dLoss/dh_t for every step (`d_hidden`, H x steps):
// adds the parameter gradients to `grad` and, if `d_input` is not null, writes
// dLoss/d(input) into it.
template <typename T>
void gru_backward(const GruShape& shape, const GruParams<T>& params, const Matrix<T>& input,
                  GruCache<T>& cache, const Matrix<T>& d_hidden, GruParams<T>& grad,
                  Matrix<T>* d_input);

// ---- Dense(1) + sigmoid + weighted binary cross-entropy ------------------------------------

template <typename T>
struct DenseParams {
  VectorView<T> weight;  // input_size
  VectorView<T> bias;    // 1
};

struct DenseShape {
  int input_size = 0;
  Index num_parameters() const { return static_cast<Index>(input_size) + 1; }
  template <typename T>
  DenseParams<T> view(T* data) const {
    return {VectorView<T>(data, input_size), VectorView<T>(data + input_size, 1)};
  }
};

// logits_t = weight . input_t + bias (one per column of `input`).
template <typename T>
void dense_forward(const DenseParams<T>& params, const Matrix<T>& input, Vector<T>& logits);
// Adds the parameter gradients to `grad`; writes dLoss/d(input) into `d_input` if not null.
template <typename T>
void dense_backward(const DenseParams<T>& params, const Matrix<T>& input, const Vector<T>& d_logits,
                    DenseParams<T>& grad, Matrix<T>* d_input);

// How each output step's cross-entropy term is weighted.
struct StepLossWeights {
  double positive_weight = 1.0;  // label-1 steps count this many times (they are rare)
  // Focal loss (Lin et al. 2017): each term is multiplied by (1 - p_right)^focal_gamma, where
  // p_right is the probability given to the step's true label. Steps the network already gets
  // right count almost nothing, so training spends itself on the confident mistakes, the
  // loud false accepts among them. 0 is plain cross-entropy.
  double focal_gamma = 0.0;
};

// Beyond this a step the network gets 90 % right weighs less than 1e-5 of a plain term: the
// loss would ignore all but a handful of steps.
inline constexpr double kMaxFocalGamma = 5.0;

// The loss of one step with label y in [0, 1] and logit z, p = sigmoid(z):
//   -positive_weight * y * (1 - p)^gamma * log(p) - (1 - y) * p^gamma * log(1 - p),
// computed without overflow; `d_logit` receives its derivative with respect to z.
double step_loss(double logit, double label, const StepLossWeights& weights, double& d_logit);

// scale * the sum of step_loss over the steps. Writes its gradient with respect to the logits
// into `d_logits` and returns the value.
template <typename T>
double weighted_bce(const Vector<T>& logits, std::span<const float> labels,
                    const StepLossWeights& weights, double scale, Vector<T>& d_logits);

}  // namespace earshot::train
