// The model file: a saved model loads back identical, and every kind of damaged file is
// refused with a message that says what is wrong (files damaged for real, on disk).
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

#include "audio_helpers.hpp"
#include "earshot/error.hpp"
#include "earshot/model_file.hpp"
#include "earshot/train_network.hpp"

using namespace earshot;
namespace fs = std::filesystem;
using earshot::testing::read_text;  // the whole file, binary-safe

namespace {

fs::path model_file_dir() {
  const fs::path dir = fs::path(EARSHOT_TEST_TMP) / "model_file";
  fs::create_directories(dir);
  return dir;
}

// Feature dim 6, conv 5 filters k3 s2, GRU 4 then 3.
Model small_model() {
  ModelShape shape;
  shape.feature_dim = 6;
  shape.conv_filters = 5;
  shape.conv_kernel = 3;
  shape.conv_stride = 2;
  shape.gru_sizes = {4, 3};
  const train::NetworkLayout layout(shape);
  Eigen::VectorXf parameters = train::initial_parameters<float>(layout, 17);
  std::mt19937_64 rng(3);
  for (Eigen::Index i = 0; i < parameters.size(); ++i) {
    parameters(i) += static_cast<float>(static_cast<double>(rng() >> 11) * 0x1.0p-53 - 0.5);
  }
  train::BatchNormRunningStats running;
  running.reset(shape.conv_filters);
  ModelMetadata metadata;
  metadata.keywords = {"activate", "computer"};
  metadata.frontend.num_mel_bands = 6;
  metadata.shape = shape;
  metadata.feature_mean = {-3.0f, -2.5f, -2.0f, -1.5f, -1.0f, 0.1f};
  metadata.feature_std = {1.0f, 1.5f, 2.0f, 2.5f, 3.0f, 0.3f};
  metadata.label_window_s = 0.36;
  metadata.default_threshold = 0.7f;
  metadata.provenance = {{"command", "earshot train --data d"}, {"metrics", {{"miss", 0.05}}}};
  return train::export_model(layout, parameters, running, metadata);
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A saved copy of small_model() at `name`, returned as bytes for damaging.
std::string saved_bytes(const fs::path& path) {
  save_model(path, small_model());
  return read_text(path);
}

std::vector<float> six_band_frames(std::size_t frames) {
  std::vector<float> values(frames * 6);
  for (std::size_t i = 0; i < values.size(); ++i)
    values[i] = std::sin(0.37f * i) * 3.0f - 1.0f;
  return values;
}

}  // namespace

TEST_CASE("save then load gives identical outputs and metadata", "[model_file]") {
  const fs::path path = model_file_dir() / "roundtrip.earshot";
  const Model original = small_model();
  save_model(path, original);
  const Model loaded = load_model(path);
  const auto frames = six_band_frames(57);
  CHECK(loaded.forward(frames, 57) == original.forward(frames, 57));
  const ModelMetadata& m = loaded.metadata();
  CHECK(m.keywords == original.metadata().keywords);
  CHECK(m.frontend == original.metadata().frontend);
  CHECK(m.shape == original.shape());
  CHECK(m.feature_mean == original.metadata().feature_mean);
  CHECK(m.feature_std == original.metadata().feature_std);
  CHECK(m.label_window_s == 0.36);
  CHECK(m.default_threshold == 0.7f);
  CHECK(m.provenance == original.metadata().provenance);
}

TEST_CASE("a model file starts with the magic bytes and version 1, little-endian", "[model_file]") {
  const std::string bytes = saved_bytes(model_file_dir() / "header.earshot");
  CHECK(bytes.substr(0, 8) == std::string("EARSHOT\0", 8));
  CHECK(bytes.substr(8, 4) == std::string("\x01\0\0\0", 4));
}

TEST_CASE("the model's parameter count equals the values in its weight tensors", "[model_file]") {
  const Model model = small_model();
  std::size_t values = 0;
  for (const NamedTensor& tensor : model_tensors(model)) {
    if (!tensor.name.starts_with("input.")) values += tensor.values.size();
  }
  CHECK(values == model.shape().num_parameters());
}

TEST_CASE("saving replaces an existing file and leaves no temporary file", "[model_file]") {
  const fs::path dir = model_file_dir() / "replace";
  fs::remove_all(dir);
  fs::create_directories(dir);
  write_bytes(dir / "m.earshot", "old contents");
  save_model(dir / "m.earshot", small_model());
  CHECK_NOTHROW(load_model(dir / "m.earshot"));
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);
  CHECK_THROWS_WITH(save_model(dir / "no_such_dir" / "m.earshot", small_model()),
                    Catch::Contains("cannot write model file"));
}

TEST_CASE("a missing model file is reported as missing", "[model_file]") {
  CHECK_THROWS_WITH(load_model(model_file_dir() / "absent.earshot"),
                    Catch::Contains("cannot open model file") && Catch::Contains("no such file"));
}

TEST_CASE("a file cut inside a tensor names the tensor and the bytes missing", "[model_file]") {
  const fs::path path = model_file_dir() / "truncated.earshot";
  const std::string bytes = saved_bytes(path);
  // The file ends with dense.bias (1 float = 4 bytes) and the 8-byte checksum: keep 1 byte
  // of dense.bias.
  write_bytes(path, bytes.substr(0, bytes.size() - 8 - 3));
  CHECK_THROWS_WITH(load_model(path), Catch::Contains("is truncated: expected 4 bytes of tensor "
                                                      "'dense.bias', found 1"));
}

TEST_CASE("a file cut inside the metadata or the checksum says so", "[model_file]") {
  const fs::path path = model_file_dir() / "truncated_metadata.earshot";
  const std::string bytes = saved_bytes(path);
  write_bytes(path, bytes.substr(0, 100));
  CHECK_THROWS_WITH(load_model(path), Catch::Contains("is truncated: expected") &&
                                          Catch::Contains("bytes of metadata, found 72"));
  write_bytes(path, bytes.substr(0, bytes.size() - 5));
  CHECK_THROWS_WITH(load_model(path),
                    Catch::Contains("is truncated: expected 8 bytes of checksum, found 3"));
  write_bytes(path, "");
  CHECK_THROWS_WITH(load_model(path),
                    Catch::Contains("is truncated: expected 8 bytes of magic, found 0"));
}

TEST_CASE("a flipped bit in the weights or the metadata fails the checksum", "[model_file]") {
  const fs::path path = model_file_dir() / "corrupt.earshot";
  const std::string bytes = saved_bytes(path);
  // A byte of the last tensor's dims, one of its value, and one in the metadata JSON.
  for (const std::size_t offset : {bytes.size() - 20, bytes.size() - 10, std::size_t{40}}) {
    std::string damaged = bytes;
    damaged[offset] = static_cast<char>(damaged[offset] ^ 0x04);
    write_bytes(path, damaged);
    CHECK_THROWS_WITH(load_model(path), Catch::Contains("is corrupted: checksum mismatch (stored"));
  }
}

TEST_CASE("bytes after the checksum are refused", "[model_file]") {
  const fs::path path = model_file_dir() / "trailing.earshot";
  write_bytes(path, saved_bytes(path) + "xyz");
  CHECK_THROWS_WITH(load_model(path), Catch::Contains("is corrupted: its header declares") &&
                                          Catch::Contains("bytes but the file has"));
}

TEST_CASE("a file that is not a model says so", "[model_file]") {
  const fs::path path = model_file_dir() / "not_a_model.wav";
  write_bytes(path, std::string("RIFF\x24\0\0\0WAVEfmt ", 16));
  CHECK_THROWS_WITH(load_model(path), Catch::Contains("is not an Earshot model file"));
}

TEST_CASE("a file from another format version names both versions", "[model_file]") {
  const fs::path path = model_file_dir() / "version.earshot";
  std::string bytes = saved_bytes(path);
  bytes[8] = 2;
  write_bytes(path, bytes);
  CHECK_THROWS_WITH(load_model(path),
                    Catch::Contains("has format version 2; this build of earshot reads version 1"));
}

TEST_CASE("tensor dims that disagree with the metadata's shape are refused", "[model_file]") {
  const fs::path path = model_file_dir() / "shape.earshot";
  save_model(path, small_model());
  ModelFileContents contents = read_model_file(path);
  contents.metadata["shape"]["gru_sizes"] = {4, 2};  // the file's gru1 tensors are for 3 units
  write_model_file(path, contents);
  CHECK_THROWS_WITH(load_model(path),
                    Catch::Contains("tensor 'gru1.input_weight' has dims [9, 4] but the "
                                    "metadata's shape") &&
                        Catch::Contains("needs [6, 4]"));
}

TEST_CASE("a missing, duplicated, unexpected or non-finite tensor is refused", "[model_file]") {
  const fs::path path = model_file_dir() / "tensors.earshot";
  save_model(path, small_model());
  const ModelFileContents good = read_model_file(path);

  ModelFileContents missing = good;
  missing.tensors.erase(missing.tensors.begin() + 5);
  write_model_file(path, missing);
  CHECK_THROWS_WITH(load_model(path), Catch::Contains("lacks tensor 'gru0.hidden_weight'"));

  ModelFileContents duplicated = good;
  duplicated.tensors.push_back(good.tensors.front());
  write_model_file(path, duplicated);
  CHECK_THROWS_WITH(load_model(path), Catch::Contains("holds tensor 'input.mean' twice"));

  ModelFileContents extra = good;
  extra.tensors.push_back({"gru2.input_weight", {1}, {0.0f}});
  write_model_file(path, extra);
  CHECK_THROWS_WITH(load_model(path), Catch::Contains("unexpected tensor 'gru2.input_weight'"));

  ModelFileContents not_finite = good;
  not_finite.tensors[2].values[7] = std::nanf("");
  write_model_file(path, not_finite);
  CHECK_THROWS_WITH(load_model(path),
                    Catch::Contains("tensor 'conv.weight' holds a non-finite value"));
}

TEST_CASE("metadata with a missing field or a bad front end is refused with the file name",
          "[model_file]") {
  const fs::path path = model_file_dir() / "metadata.earshot";
  save_model(path, small_model());
  ModelFileContents contents = read_model_file(path);
  contents.metadata.erase("label_window_s");
  write_model_file(path, contents);
  CHECK_THROWS_WITH(load_model(path), Catch::Contains(path.string()) &&
                                          Catch::Contains("missing field 'label_window_s'"));
  save_model(path, small_model());
  contents = read_model_file(path);
  contents.metadata["gru_variant"] = "reset_before";
  write_model_file(path, contents);
  CHECK_THROWS_WITH(load_model(path), Catch::Contains("gru_variant is \"reset_before\""));
}
