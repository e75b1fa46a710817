#include "earshot/text_file.hpp"

#include <fmt/core.h>

#include <fstream>

#include "earshot/error.hpp"

namespace earshot {

void write_text_file(const std::filesystem::path& path, const std::string& text,
                     const std::string& writer) {
  std::error_code error;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), error);
  if (error) {
    throw Error(fmt::format("cannot create directory '{}' for '{}': {}",
                            path.parent_path().string(), path.string(), error.message()));
  }
  const std::filesystem::path partial = path.string() + ".partial" + writer;
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(partial, ignored);
      throw Error(fmt::format("cannot write '{}' (disk full, missing directory or not writable?)",
                              path.string()));
    }
  }
  std::filesystem::rename(partial, path, error);
  if (error) {
    std::error_code ignored;
    std::filesystem::remove(partial, ignored);
    throw Error(fmt::format("cannot move '{}' into place: {}", path.string(), error.message()));
  }
}

}  // namespace earshot
