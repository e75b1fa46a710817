// The Earshot model file: one self-describing binary file per model.
//
// FORMAT, version 1. Every integer is unsigned little-endian and every float is IEEE-754
// binary32 little-endian, written byte by byte, so files do not depend on the host's
// endianness or struct layout.
//
//   offset     size        field
//   0          8           magic: the bytes "EARSHOT" followed by one zero byte
//   8          4           uint32 format version (1)
//   12         8           uint64 size of the whole file in bytes, checksum included
//   20         8           uint64 L: length of the metadata in bytes
//   28         L           metadata: one UTF-8 JSON object (below)
//   28 + L     4           uint32 N: number of tensors
//   ...                    N tensors, each:
//                4           uint32 n: length of the name
//                n           name (ASCII, e.g. "gru0.hidden_weight")
//                4           uint32 r: rank, 1..8
//                8 r         uint64 dims, outermost first
//                4 prod(dims)  float32 values, row-major (the last dim varies fastest)
//   size - 8   8           uint64 FNV-1a 64-bit hash of every byte before it (checksum)
//
// The file size in the header tells a truncated file (shorter than declared: the reader
// walks the structure to say which part is missing) from a damaged one (complete, but the
// checksum disagrees), before anything in the file is interpreted.
//
// Metadata JSON fields:
//   "keywords"           array of strings, the trigger word(s) the model detects
//   "frontend"           FrontEndConfig (frontend.hpp): the features the model expects
//   "shape"              ModelShape (model.hpp): feature_dim, conv_filters, conv_kernel,
//                        conv_stride, gru_sizes
//   "gru_variant"        "reset_after" (the only one this version writes or reads)
//   "label_window_s"     number, seconds labelled 1 after each trigger word
//   "default_threshold"  number in (0, 1)
//   "provenance"         free-form object: training data, command line, date, metrics
//   "ensemble_members"   integer 2..64, only in an ensemble's file (model.hpp): absent = 1
//
// Tensors, with D = feature_dim, F = conv_filters, K = conv_kernel, H_i = gru_sizes[i],
// I_0 = F and I_i = H_(i-1) (any order in the file; exactly this set must be present):
//   input.mean [D], input.std [D]       feature normalisation: (x - mean) / std
//   conv.weight [F, K, D]               BatchNorm already folded in; [f, t, d] multiplies
//                                       value d of frame t of the window (oldest first)
//   conv.bias [F]
//   gru<i>.input_weight [3 H_i, I_i]    rows [reset; update; candidate] (PyTorch weight_ih)
//   gru<i>.hidden_weight [3 H_i, H_i]   (PyTorch weight_hh)
//   gru<i>.input_bias [3 H_i], gru<i>.hidden_bias [3 H_i]
//   dense.weight [1, H_last], dense.bias [1]
// An ensemble stores its first member under these names and member m >= 1 under the same
// names prefixed "member<m>." ("member1.conv.weight"); input.mean and input.std are shared.
// A build without ensembles rejects such a file by its unexpected tensors.
//
// Reading checks, in order, and throws earshot::Error naming the file and the problem:
// magic ("is not an Earshot model file"), version, truncation ("is truncated: expected N
// bytes of tensor 'gru0.input_weight', found M"), size and checksum ("is corrupted:
// checksum mismatch"), metadata JSON, the tensor set and every tensor's dims against the
// metadata's shape, finite values. Writing goes to a temporary file in the same directory that is
// then renamed over the target, so readers never see a half-written model.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "earshot/model.hpp"

namespace earshot {

inline constexpr std::uint32_t kModelFormatVersion = 1;
// The most networks one file may hold ("ensemble_members" above).
inline constexpr std::size_t kMaxEnsembleMembers = 64;

struct NamedTensor {
  std::string name;
  std::vector<std::uint64_t> dims;
  std::vector<float> values;  // row-major, prod(dims) values
};

// The file's contents after the structural checks, before interpretation.
struct ModelFileContents {
  nlohmann::json metadata;
  std::vector<NamedTensor> tensors;
};

// Low level: checks magic, version, truncation and checksum; parses the JSON.
ModelFileContents read_model_file(const std::filesystem::path& path);
// Low level: writes any contents in the format above (temp file + rename).
void write_model_file(const std::filesystem::path& path, const ModelFileContents& contents);

// The metadata JSON object (every field above) and back. Feature mean/std are tensors, so
// metadata_from_json leaves them empty.
nlohmann::json metadata_to_json(const ModelMetadata& metadata);
ModelMetadata metadata_from_json(const nlohmann::json& json);

// The tensors of a model, in the order listed above.
std::vector<NamedTensor> model_tensors(const Model& model);

void save_model(const std::filesystem::path& path, const Model& model);
// Everything read_model_file checks, plus the tensor set and dims against the metadata.
Model load_model(const std::filesystem::path& path);

}  // namespace earshot
