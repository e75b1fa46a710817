// synth/make_tts_clips.sh with festival's non-English voices ("festival-accented"): each says
// the English word through its own language's respelling (synth/respellings.tsv), as a short
// trimmed clip, and says nothing it has no respelling for. The test suite installs three of
// them (tools/install_deps.sh --tests): a Czech one (ISO-8859-2 text), a Finnish one
// (ISO-8859-1) and the Hindi one (UTF-8, recorded with a noise floor).
#include <fmt/core.h>
#include <sndfile.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "audio_helpers.hpp"
#include "command_helpers.hpp"

namespace fs = std::filesystem;
using earshot::testing::read_text;
using earshot::testing::run_command;

namespace {

struct ManifestRow {
  std::string file, text, voice;
};

std::vector<ManifestRow> read_manifest(const fs::path& dir) {
  std::istringstream lines(read_text(dir / "manifest.tsv"));
  std::string line;
  std::getline(lines, line);  // header
  std::vector<ManifestRow> rows;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    ManifestRow row;
    std::string engine;
    std::getline(fields, row.file, '\t');
    std::getline(fields, row.text, '\t');
    std::getline(fields, engine, '\t');
    std::getline(fields, row.voice, '\t');
    rows.push_back(row);
  }
  return rows;
}

double duration_s(const fs::path& wav) {
  SF_INFO info{};
  SNDFILE* file = sf_open(wav.c_str(), SFM_READ, &info);
  REQUIRE(file != nullptr);
  sf_close(file);
  return static_cast<double>(info.frames) / info.samplerate;
}

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::path(EARSHOT_TEST_TMP) / "tts_accented" / name;
  fs::remove_all(dir);
  fs::create_directories(dir.parent_path());
  return dir;
}

earshot::testing::CommandResult make_clips(const std::string& arguments, const fs::path& out) {
  return run_command(fmt::format("'{}/synth/make_tts_clips.sh' --engines festival-accented "
                                 "--variants 1 --seed 3 --jobs 2 --out '{}' {}",
                                 EARSHOT_SOURCE_DIR, out.string(), arguments),
                     out.string() + ".log");
}

}  // namespace

TEST_CASE("accented voices say 'activate' as one word-length clip each", "[synth][tts]") {
  const fs::path out = fresh_dir("activate");
  const auto result = make_clips("--text activate", out);
  INFO(result.output);
  REQUIRE(result.exit_code == 0);

  const auto rows = read_manifest(out);
  std::set<std::string> voices;
  for (const auto& row : rows) {
    INFO(row.file);
    CHECK(row.text == "activate");
    voices.insert(row.voice);
    // "activate" lasts about 0.4-1 s. A voice that mis-read its respelling (wrong text
    // encoding: it spells out the unknown characters) or kept its noise floor as speech
    // (untrimmed) lasts well over a second.
    const double seconds = duration_s(out / row.file);
    CHECK(seconds > 0.3);
    CHECK(seconds < 1.2);
  }
  CHECK(voices.count("festival:czech_dita") == 1);
  CHECK(voices.count("festival:hy_fi_mv_diphone") == 1);
  CHECK(voices.count("festival:hindi_NSK_diphone") == 1);
  CHECK(rows.size() == voices.size());  // --variants 1: one clip per voice
}

TEST_CASE("accented voices skip the texts that have no respelling for their language",
          "[synth][tts]") {
  const fs::path words_file = fs::path(EARSHOT_TEST_TMP) / "tts_accented" / "words.txt";
  fs::create_directories(words_file.parent_path());
  {
    std::ofstream words(words_file);
    words << "motivate\nhello there\n";
  }
  const fs::path out = fresh_dir("words");
  const auto result =
      make_clips(fmt::format("--text-file '{}' --per-text 3", words_file.string()), out);
  INFO(result.output);
  REQUIRE(result.exit_code == 0);
  const auto rows = read_manifest(out);
  CHECK(rows.size() == 3);
  for (const auto& row : rows)
    CHECK(row.text == "motivate");
}

TEST_CASE("a respellings file that cannot be read stops the run with its name", "[synth][tts]") {
  const fs::path out = fresh_dir("no_respellings");
  const auto result = make_clips("--text activate --respellings /nonexistent/respellings.tsv", out);
  CHECK(result.exit_code != 0);
  CHECK(result.output.find("/nonexistent/respellings.tsv") != std::string::npos);
}
