// Writing small text outputs (manifests, reports, label files) safely.
#pragma once

#include <filesystem>
#include <string>

namespace earshot {

// Writes `text` to `path` (creating the directories above it) through a temporary file in
// the same directory and a rename, so a full disk or a crash never leaves a half-written
// file under the final name; the temporary file is removed on failure. `writer`
// tells concurrent writers of the same file apart (each gets its own temporary file).
// Throws earshot::Error naming the file on failure.
void write_text_file(const std::filesystem::path& path, const std::string& text,
                     const std::string& writer = "");

}  // namespace earshot
