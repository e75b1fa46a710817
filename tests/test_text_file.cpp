// Specification of write_text_file (include/earshot/text_file.hpp): the safe way every
// command writes its text outputs.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "audio_helpers.hpp"
#include "earshot/error.hpp"
#include "earshot/text_file.hpp"

namespace fs = std::filesystem;

using earshot::testing::read_text;

TEST_CASE("a text file is written whole, into directories made for it", "[text_file]") {
  const fs::path dir = earshot::testing::fresh_test_directory(EARSHOT_TEST_TMP);
  const fs::path path = dir / "a" / "b" / "out.txt";
  earshot::write_text_file(path, "first\n");
  earshot::write_text_file(path, "second\n");
  CHECK(read_text(path) == "second\n");
  // Only the final file is left: no temporary beside it.
  CHECK(std::distance(fs::directory_iterator(path.parent_path()), fs::directory_iterator()) == 1);
}

TEST_CASE("a text file that cannot be written is an error naming it, and leaves nothing",
          "[text_file]") {
  const fs::path dir = earshot::testing::fresh_test_directory(EARSHOT_TEST_TMP);
  std::ofstream(dir / "plain_file") << "not a directory";
  CHECK_THROWS_AS(earshot::write_text_file(dir / "plain_file" / "out.txt", "x"), earshot::Error);
  // The final name is a directory: the rename fails after the temporary file was written.
  fs::create_directories(dir / "taken" / "inside");
  CHECK_THROWS_WITH(earshot::write_text_file(dir / "taken", "x"), Catch::Contains("taken"));
  CHECK_FALSE(fs::exists(dir / "taken.partial"));
}
