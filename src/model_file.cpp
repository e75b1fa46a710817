// The model file's byte layout (format documented in model_file.hpp): encoding, decoding,
// and the structural checks that need no knowledge of what the tensors mean.
#include "earshot/model_file.hpp"

#include <fmt/format.h>

#include <array>
#include <bit>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <system_error>
#include <utility>

#include "earshot/error.hpp"

namespace earshot {
namespace {

constexpr std::array<char, 8> kMagic = {'E', 'A', 'R', 'S', 'H', 'O', 'T', '\0'};
// Bounds no real model reaches; beyond them a field can only be corruption.
constexpr std::uint32_t kMaxTensors = 4096;
constexpr std::uint32_t kMaxNameLength = 256;
constexpr std::uint32_t kMaxRank = 8;
constexpr std::size_t kChecksumBytes = 8;
// Where the file size field sits, to be filled in once the size is known.
constexpr std::size_t kFileSizeOffset = 12;

std::uint64_t fnv1a64(const char* data, std::size_t size) {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (std::size_t i = 0; i < size; ++i) {
    hash ^= static_cast<unsigned char>(data[i]);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

class ByteWriter {
 public:
  void bytes(const char* data, std::size_t size) { buffer_.append(data, size); }
  void u32(std::uint32_t value) { little_endian(value, 4); }
  void u64(std::uint64_t value) { little_endian(value, 8); }
  void f32(float value) { u32(std::bit_cast<std::uint32_t>(value)); }
  std::string& buffer() { return buffer_; }

 private:
  void little_endian(std::uint64_t value, int num_bytes) {
    for (int i = 0; i < num_bytes; ++i)
      buffer_.push_back(static_cast<char>(value >> (8 * i)));
  }
  std::string buffer_;
};

class ByteReader {
 public:
  ByteReader(const std::string& data, const std::filesystem::path& path)
      : data_(data), path_(path) {}

  std::size_t offset() const { return offset_; }
  std::size_t remaining() const { return data_.size() - offset_; }

  // Throws the truncation error unless `size` more bytes are there.
  void need(std::uint64_t size, const std::string& what) const {
    if (size > remaining()) {
      throw Error(fmt::format("model file '{}' is truncated: expected {} bytes of {}, found {}",
                              path_.string(), size, what, remaining()));
    }
  }
  std::string bytes(std::size_t size, const std::string& what) {
    need(size, what);
    std::string out = data_.substr(offset_, size);
    offset_ += size;
    return out;
  }
  std::uint32_t u32(const std::string& what) { return static_cast<std::uint32_t>(le(4, what)); }
  std::uint64_t u64(const std::string& what) { return le(8, what); }
  // Reads `count` floats; the caller has checked with need().
  void f32s(std::size_t count, std::vector<float>& out) {
    out.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
      out[i] = std::bit_cast<float>(static_cast<std::uint32_t>(le_unchecked(4)));
    }
  }

 private:
  std::uint64_t le(int num_bytes, const std::string& what) {
    need(static_cast<std::uint64_t>(num_bytes), what);
    return le_unchecked(num_bytes);
  }
  std::uint64_t le_unchecked(int num_bytes) {
    std::uint64_t value = 0;
    for (int i = 0; i < num_bytes; ++i) {
      value |= static_cast<std::uint64_t>(static_cast<unsigned char>(data_[offset_ + i]))
               << (8 * i);
    }
    offset_ += static_cast<std::size_t>(num_bytes);
    return value;
  }

  const std::string& data_;
  const std::filesystem::path& path_;
  std::size_t offset_ = 0;
};

std::string read_whole_file(const std::filesystem::path& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    throw Error(
        fmt::format("cannot open model file '{}': {}", path.string(),
                    std::filesystem::exists(path, error) ? "not a regular file" : "no such file"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("cannot open model file '{}' for reading", path.string()));
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw Error(fmt::format("error while reading model file '{}'", path.string()));
  return data;
}

void check_magic_and_version(ByteReader& reader, const std::string& data,
                             const std::filesystem::path& path) {
  const std::size_t present = std::min(data.size(), kMagic.size());
  if (std::memcmp(data.data(), kMagic.data(), present) != 0) {
    throw Error(fmt::format(
        "model file '{}' is not an Earshot model file: it does not start with the bytes "
        "\"EARSHOT\\0\"",
        path.string()));
  }
  reader.bytes(kMagic.size(), "magic");
  const std::uint32_t version = reader.u32("format version");
  if (version != kModelFormatVersion) {
    throw Error(
        fmt::format("model file '{}' has format version {}; this build of earshot reads version {}",
                    path.string(), version, kModelFormatVersion));
  }
}

// Structural nonsense can only come from corruption (a truncated file fails earlier).
[[noreturn]] void throw_corrupt(const std::filesystem::path& path, const std::string& problem) {
  throw Error(fmt::format("model file '{}' is corrupted: {}", path.string(), problem));
}

NamedTensor read_tensor(ByteReader& reader, std::uint32_t index,
                        const std::filesystem::path& path) {
  NamedTensor tensor;
  const std::string label = fmt::format("tensor {}", index);
  const std::uint32_t name_length = reader.u32("the name length of " + label);
  if (name_length == 0 || name_length > kMaxNameLength) {
    throw_corrupt(path, fmt::format("{} has a name of {} bytes (allowed 1 to {})", label,
                                    name_length, kMaxNameLength));
  }
  tensor.name = reader.bytes(name_length, "the name of " + label);
  const std::string quoted = fmt::format("tensor '{}'", tensor.name);
  const std::uint32_t rank = reader.u32("the rank of " + quoted);
  if (rank == 0 || rank > kMaxRank) {
    throw_corrupt(path, fmt::format("{} has rank {} (allowed 1 to {})", quoted, rank, kMaxRank));
  }
  std::uint64_t count = 1;
  for (std::uint32_t i = 0; i < rank; ++i) {
    const std::uint64_t dim = reader.u64("the dims of " + quoted);
    tensor.dims.push_back(dim);
    // Saturate instead of overflowing: the byte count check below then reports the truth.
    count = (dim != 0 && count > UINT64_MAX / dim) ? UINT64_MAX : count * dim;
  }
  const std::uint64_t num_bytes = count > UINT64_MAX / 4 ? UINT64_MAX : count * 4;
  reader.need(num_bytes, quoted);
  reader.f32s(static_cast<std::size_t>(count), tensor.values);
  return tensor;
}

// Everything between the header and the checksum: the metadata text and the tensors.
std::pair<std::string, ModelFileContents> read_body(ByteReader& reader,
                                                    const std::filesystem::path& path) {
  const std::uint64_t metadata_length = reader.u64("metadata length");
  reader.need(metadata_length, "metadata");
  std::string metadata_text = reader.bytes(static_cast<std::size_t>(metadata_length), "metadata");
  const std::uint32_t num_tensors = reader.u32("tensor count");
  if (num_tensors > kMaxTensors) {
    throw_corrupt(
        path, fmt::format("it claims {} tensors (at most {} allowed)", num_tensors, kMaxTensors));
  }
  ModelFileContents contents;
  for (std::uint32_t i = 0; i < num_tensors; ++i) {
    contents.tensors.push_back(read_tensor(reader, i, path));
  }
  return {std::move(metadata_text), std::move(contents)};
}

void write_atomically(const std::filesystem::path& path, const std::string& bytes) {
  std::random_device entropy;
  const std::filesystem::path temp =
      path.parent_path() / fmt::format(".{}.tmp-{:08x}", path.filename().string(), entropy());
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) {
      throw Error(fmt::format("cannot write model file '{}': cannot create '{}'", path.string(),
                              temp.string()));
    }
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(temp, ignored);
      throw Error(fmt::format("cannot write model file '{}': writing '{}' failed (disk full?)",
                              path.string(), temp.string()));
    }
  }
  std::error_code error;
  std::filesystem::rename(temp, path, error);
  if (error) {
    std::filesystem::remove(temp, error);
    throw Error(fmt::format("cannot write model file '{}': renaming '{}' into place failed: {}",
                            path.string(), temp.string(), error.message()));
  }
}

}  // namespace

ModelFileContents read_model_file(const std::filesystem::path& path) {
  const std::string data = read_whole_file(path);
  ByteReader reader(data, path);
  check_magic_and_version(reader, data, path);
  const std::uint64_t declared_size = reader.u64("file size");
  if (data.size() < declared_size) {
    // Walking the structure finds where the file was cut and names what is missing.
    read_body(reader, path);
    reader.u64("checksum");
  }
  if (data.size() != declared_size) {
    throw_corrupt(path, fmt::format("its header declares {} bytes but the file has {}",
                                    declared_size, data.size()));
  }
  // Complete: any damage now is corruption, which the checksum finds before anything is
  // interpreted.
  const std::size_t checked_bytes = data.size() - kChecksumBytes;
  const std::uint64_t computed = fnv1a64(data.data(), checked_bytes);
  std::uint64_t stored = 0;
  for (std::size_t i = 0; i < kChecksumBytes; ++i) {
    stored |= static_cast<std::uint64_t>(static_cast<unsigned char>(data[checked_bytes + i]))
              << (8 * i);
  }
  if (stored != computed) {
    throw_corrupt(path, fmt::format("checksum mismatch (stored {:016x}, computed {:016x})", stored,
                                    computed));
  }
  auto [metadata_text, contents] = read_body(reader, path);
  if (reader.offset() != checked_bytes) {
    throw_corrupt(path, fmt::format("its tensors end at byte {}, but the checksum starts at {}",
                                    reader.offset(), checked_bytes));
  }

  try {
    contents.metadata = nlohmann::json::parse(metadata_text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(
        fmt::format("model file '{}': metadata is not valid JSON: {}", path.string(), e.what()));
  }
  if (!contents.metadata.is_object()) {
    throw Error(fmt::format("model file '{}': metadata must be a JSON object, found {}",
                            path.string(), contents.metadata.type_name()));
  }
  return contents;
}

void write_model_file(const std::filesystem::path& path, const ModelFileContents& contents) {
  ByteWriter writer;
  writer.bytes(kMagic.data(), kMagic.size());
  writer.u32(kModelFormatVersion);
  writer.u64(0);  // file size, patched below
  const std::string metadata_text = contents.metadata.dump(2);
  writer.u64(metadata_text.size());
  writer.bytes(metadata_text.data(), metadata_text.size());
  writer.u32(static_cast<std::uint32_t>(contents.tensors.size()));
  for (const NamedTensor& tensor : contents.tensors) {
    std::uint64_t count = 1;
    for (const std::uint64_t dim : tensor.dims)
      count *= dim;
    if (tensor.name.empty() || tensor.name.size() > kMaxNameLength || tensor.dims.empty() ||
        tensor.dims.size() > kMaxRank || count != tensor.values.size()) {
      throw Error(fmt::format(
          "cannot write model file '{}': tensor '{}' has {} dims and {} values, which the "
          "format cannot hold or which disagree",
          path.string(), tensor.name, tensor.dims.size(), tensor.values.size()));
    }
    writer.u32(static_cast<std::uint32_t>(tensor.name.size()));
    writer.bytes(tensor.name.data(), tensor.name.size());
    writer.u32(static_cast<std::uint32_t>(tensor.dims.size()));
    for (const std::uint64_t dim : tensor.dims)
      writer.u64(dim);
    for (const float value : tensor.values)
      writer.f32(value);
  }
  const std::uint64_t file_size = writer.buffer().size() + kChecksumBytes;
  for (std::size_t i = 0; i < 8; ++i) {
    writer.buffer()[kFileSizeOffset + i] = static_cast<char>(file_size >> (8 * i));
  }
  writer.u64(fnv1a64(writer.buffer().data(), writer.buffer().size()));
  write_atomically(path, writer.buffer());
}

}  // namespace earshot
