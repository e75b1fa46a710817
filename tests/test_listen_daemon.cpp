// Specification of the `earshot listen` executable, run as a child process on recordings of
// tone bursts (--input), with the constructed tone model of test_listen_fixtures.hpp.
#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "audio_helpers.hpp"
#include "earshot/audio_io.hpp"
#include "test_listen_fixtures.hpp"

using namespace earshot;
using namespace earshot::listen_test;
using Catch::Matchers::Contains;

namespace {

const std::string kEarshot = EARSHOT_BINARY;

struct Setup {
  std::filesystem::path dir;
  std::filesystem::path model;
  std::filesystem::path recording;
};

Setup make_setup(const std::vector<double>& bursts_s, double total_s) {
  Setup setup;
  setup.dir = testing::fresh_test_directory(EARSHOT_TEST_TMP);
  setup.model = save_tone_model(setup.dir / "tone.earshot");
  setup.recording = setup.dir / "bursts.wav";
  write_audio(setup.recording, tone_bursts(bursts_s, total_s));
  return setup;
}

std::vector<std::string> listen_args(const Setup& setup, std::vector<std::string> extra) {
  std::vector<std::string> args = {
      kEarshot, "listen", "--model", setup.model.string(), "--input", setup.recording.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

int exit_code(int wait_status) {
  INFO("wait status " << wait_status);
  REQUIRE(WIFEXITED(wait_status));
  return WEXITSTATUS(wait_status);
}

// Waits until `path` has `lines` lines (deadline: a guard against hanging).
std::vector<std::string> wait_for_lines(const std::filesystem::path& path, std::size_t lines) {
  std::vector<std::string> found;
  for (int attempt = 0; attempt < 6000; ++attempt) {
    found.clear();
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);)
      found.push_back(line);
    if (found.size() >= lines) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return found;
}

void replace_file(const std::filesystem::path& path, const std::string& content) {
  const auto temporary = path.string() + ".tmp";
  std::ofstream(temporary, std::ios::binary) << content;
  std::filesystem::rename(temporary, path);
}

const std::vector<double> kBursts_s = {1.0, 3.5, 6.0};

}  // namespace

TEST_CASE("replaying a file fast reports each tone burst once at its time and then exits 0",
          "[listen]") {
  const Setup setup = make_setup(kBursts_s, 8.0);
  ChildProcess daemon(listen_args(setup, {"--fast"}));
  const auto events = daemon.read_events();
  CHECK(exit_code(daemon.wait()) == 0);
  REQUIRE(events.size() >= 2);
  CHECK(events.front()["type"] == "started");
  CHECK(events.front()["keywords"] == nlohmann::json::array({"tone"}));
  check_one_detection_per_burst(detection_times(events), kBursts_s);
  for (const auto& detection : of_type(events, "detection")) {
    CHECK(detection["keyword"] == "tone");
    CHECK(detection["score"].get<double>() > 0.9);
    CHECK(detection["wall_time"].is_string());
  }
  CHECK(events.back()["type"] == "status");
  CHECK(events.back()["final"] == true);
  CHECK(events.back()["audio_s"].get<double>() == Approx(8.0));
  CHECK(events.back()["overruns"] == 0);  // --fast waits for room instead of dropping
}

TEST_CASE("SIGTERM or SIGINT stops a live replay: exit 0 with a final status line", "[listen]") {
  const int signal_number = GENERATE(SIGTERM, SIGINT);
  const Setup setup = make_setup({1.0}, 120.0);
  ChildProcess daemon(listen_args(setup, {"--status-every", "0"}));
  REQUIRE(daemon.read_until("started"));
  ::kill(daemon.pid(), signal_number);
  const auto events = daemon.read_events();
  CHECK(exit_code(daemon.wait()) == 0);
  REQUIRE_FALSE(events.empty());
  CHECK(events.back()["type"] == "status");
  CHECK(events.back()["final"] == true);
  CHECK(events.back()["audio_s"].get<double>() < 120.0);  // it stopped early
  CHECK(of_type(events, "error").empty());
}

TEST_CASE("SIGHUP reloads the model but a broken file is reported and the old model kept",
          "[listen]") {
  std::vector<double> bursts_s;
  for (double t = 1.0; t < 120.0; t += 1.5)
    bursts_s.push_back(t);
  const Setup setup = make_setup(bursts_s, 120.0);
  ChildProcess daemon(listen_args(setup, {"--status-every", "0"}));
  REQUIRE(daemon.read_until("detection"));

  replace_file(setup.model, "not a model");
  ::kill(daemon.pid(), SIGHUP);
  const auto error = daemon.read_until("error");
  REQUIRE(error);
  CHECK_THAT((*error)["message"].get<std::string>(),
             Contains("reload failed") && Contains("keeping the current model"));
  const auto still_old = daemon.read_until("detection");
  REQUIRE(still_old);
  CHECK((*still_old)["keyword"] == "tone");

  save_tone_model(setup.model, "second");
  ::kill(daemon.pid(), SIGHUP);
  const auto reloaded = daemon.read_until("reloaded");
  REQUIRE(reloaded);
  CHECK((*reloaded)["keywords"] == nlohmann::json::array({"second"}));
  const auto after = daemon.read_until("detection");
  REQUIRE(after);
  CHECK((*after)["keyword"] == "second");

  ::kill(daemon.pid(), SIGTERM);
  daemon.read_events();
  CHECK(exit_code(daemon.wait()) == 0);
}

TEST_CASE("with --exec the hook runs once per detection and its stdout stays off the JSON stream",
          "[listen]") {
  const Setup setup = make_setup(kBursts_s, 8.0);
  const auto log = setup.dir / "hook.log";
  const auto hook = setup.dir / "hook.sh";
  std::ofstream(hook) << "#!/bin/sh\n"
                         "echo \"$EARSHOT_KEYWORD $EARSHOT_TIME $2\" >> \"$1\"\n"
                         "echo 'hook output that is not JSON'\n";
  std::filesystem::permissions(hook, std::filesystem::perms::owner_all);
  ChildProcess daemon(
      listen_args(setup, {"--fast", "--exec", hook.string(), log.string(), "an argument"}));
  const auto events = daemon.read_events();  // fails on any line that is not JSON
  CHECK(exit_code(daemon.wait()) == 0);
  const auto detections = of_type(events, "detection");
  REQUIRE(detections.size() == 3);
  std::vector<std::string> lines = wait_for_lines(log, 3);
  std::sort(lines.begin(), lines.end());
  std::vector<std::string> expected;
  for (const auto& detection : detections) {
    expected.push_back(fmt::format("tone {:.3f} an argument", detection["time_s"].get<double>()));
  }
  std::sort(expected.begin(), expected.end());
  CHECK(lines == expected);
}

TEST_CASE("with --save-dir each detection gets a 2.5 s WAV", "[listen]") {
  const Setup setup = make_setup({3.0, 6.0}, 9.0);
  const auto clips = setup.dir / "clips";
  ChildProcess daemon(listen_args(setup, {"--fast", "--save-dir", clips.string()}));
  const auto events = daemon.read_events();
  CHECK(exit_code(daemon.wait()) == 0);
  const auto saved = of_type(events, "saved");
  REQUIRE(saved.size() == 2);
  for (const auto& event : saved) {
    const std::filesystem::path path = event["path"].get<std::string>();
    CHECK(path.parent_path() == clips);
    CHECK(read_audio(path).size() == 40000);  // (2 + 0.5) s at 16 kHz
  }
}

TEST_CASE("a model that cannot be loaded ends the daemon with exit 1 and an error line",
          "[listen]") {
  const Setup setup = make_setup({}, 1.0);
  ChildProcess daemon({kEarshot, "listen", "--model", (setup.dir / "missing.earshot").string(),
                       "--input", setup.recording.string()});
  const auto events = daemon.read_events();
  CHECK(exit_code(daemon.wait()) == 1);
  REQUIRE(events.size() == 1);
  CHECK(events.front()["type"] == "error");
  CHECK_THAT(events.front()["message"].get<std::string>(), Contains("missing.earshot"));
}

TEST_CASE("an input device that does not exist ends the daemon with exit 1", "[listen]") {
  const Setup setup = make_setup({}, 1.0);
  ChildProcess daemon(
      {kEarshot, "listen", "--model", setup.model.string(), "--device", "earshot-no-such-device"},
      environment_for_real_audio_devices());
  const auto events = daemon.read_events();
  CHECK(exit_code(daemon.wait()) == 1);
  // Only the error: no "started", and no status line for a daemon that never listened.
  REQUIRE(events.size() == 1);
  CHECK(events.front()["type"] == "error");
  CHECK_THAT(events.front()["message"].get<std::string>(), Contains("device"));
}

TEST_CASE("a hook command that does not exist is refused before listening", "[listen]") {
  const Setup setup = make_setup({}, 1.0);
  ChildProcess daemon(listen_args(setup, {"--exec", "earshot-no-such-hook"}));
  const auto events = daemon.read_events();
  CHECK(exit_code(daemon.wait()) == 1);
  REQUIRE(events.size() == 1);
  CHECK_THAT(events.front()["message"].get<std::string>(), Contains("earshot-no-such-hook"));
}

TEST_CASE("flags that do not fit together are usage errors", "[listen]") {
  const Setup setup = make_setup({}, 1.0);
  const std::string model = setup.model.string();
  const auto args = GENERATE_COPY(
      std::vector<std::string>{"--model", model, "--fast"},
      std::vector<std::string>{"--model", model, "--threshold", "0.5", "--sensitivity", "0.5"},
      std::vector<std::string>{"--model", model, "stray-argument"},
      std::vector<std::string>{"--model", model, "--exec"},
      std::vector<std::string>{"--model", model, "--status-every", "-1"},
      std::vector<std::string>{"--model", model, "--device-timeout", "0"});
  std::vector<std::string> argv = {kEarshot, "listen"};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess daemon(argv);
  daemon.read_events();
  CHECK(exit_code(daemon.wait()) == 2);
}
