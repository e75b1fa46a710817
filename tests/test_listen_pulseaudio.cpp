// `earshot listen` against a real sound server: tests/listen_pulseaudio.sh starts a private
// PulseAudio, plays a recording of tone bursts into its default source and captures it with
// the daemon through PortAudio's ALSA backend; tests/listen_hung_device.sh freezes one, or
// breaks the start of a stream. Not skipped anywhere: CI installs the server
// (tools/install_deps.sh --tests), and a missing one fails the test.
#include <fmt/core.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "audio_helpers.hpp"
#include "earshot/audio_io.hpp"
#include "test_listen_fixtures.hpp"

using namespace earshot;
using namespace earshot::listen_test;
using Catch::Matchers::Contains;

namespace {

const std::filesystem::path kScript =
    std::filesystem::path(EARSHOT_SOURCE_DIR) / "tests" / "listen_pulseaudio.sh";
const std::filesystem::path kHungDeviceScript =
    std::filesystem::path(EARSHOT_SOURCE_DIR) / "tests" / "listen_hung_device.sh";

std::vector<nlohmann::json> read_events(const std::filesystem::path& path) {
  std::vector<nlohmann::json> events;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    INFO("line: " << line);
    REQUIRE(nlohmann::json::accept(line));
    events.push_back(nlohmann::json::parse(line));
  }
  return events;
}

// Runs the script on a tone-burst recording; returns the daemon's events.
std::vector<nlohmann::json> listen_through_pulseaudio(const std::vector<double>& bursts_s,
                                                      double total_s,
                                                      const std::string& script_options = "") {
  const auto dir = testing::fresh_test_directory(EARSHOT_TEST_TMP);
  const auto model = save_tone_model(dir / "tone.earshot");
  const auto recording = dir / "bursts.wav";
  write_audio(recording, tone_bursts(bursts_s, total_s));
  const auto out = dir / "events.jsonl";
  const std::string command = "bash '" + kScript.string() + "' " + script_options + " '" +
                              EARSHOT_BINARY + "' '" + model.string() + "' '" + recording.string() +
                              "' '" + out.string() + "'";
  const int status = std::system(command.c_str());
  INFO("command: " << command);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  return read_events(out);
}

}  // namespace

TEST_CASE("captured from a PulseAudio source each tone burst is detected at its time", "[listen]") {
  const std::vector<double> bursts_s = {0.5, 1.5, 2.5};
  const auto events = listen_through_pulseaudio(bursts_s, 3.2);
  REQUIRE_FALSE(events.empty());
  CHECK(events.front()["type"] == "started");
  CHECK(events.front()["source"] == "pulse");
  check_one_detection_per_burst(detection_times(events), bursts_s);
  CHECK(of_type(events, "error").empty());
  CHECK(events.back()["type"] == "status");
  CHECK(events.back()["final"] == true);
  CHECK(events.back()["overruns"] == 0);
}

namespace {

// The server-restart scenario: bursts at 0.5 s and 1.5 s, the server restarted at 2.2 s,
// then bursts at 3.0 and 4.0 s.
const std::vector<double> kRestartBursts_s = {0.5, 1.5, 3.0, 4.0};
constexpr double kRestartRecording_s = 4.6;
const std::string kRestartOption = "--restart-server-after 2.2";

// After a restart: a second "started", every burst detected, a clean end.
void check_recovered_from_restart(const std::vector<nlohmann::json>& events) {
  CHECK(of_type(events, "started").size() == 2);
  const std::vector<double> times = detection_times(events);
  REQUIRE(times.size() == 4);
  // Before the restart the clock is the recording's; after it, audio lost in the server's
  // buffers may shift it a little, so only the order is checked there.
  check_one_detection_per_burst({times[0], times[1]}, {0.5, 1.5});
  CHECK(times[2] > times[1]);
  CHECK(times[3] > times[2]);
  CHECK(events.back()["final"] == true);
}

}  // namespace

TEST_CASE("when the sound server goes away the daemon reports it and reopens and goes on",
          "[listen]") {
  const auto events =
      listen_through_pulseaudio(kRestartBursts_s, kRestartRecording_s, kRestartOption);
  const auto errors = of_type(events, "error");
  REQUIRE_FALSE(errors.empty());
  CHECK_THAT(errors.front()["message"].get<std::string>(),
             Contains("audio device 'pulse' lost") && Contains("reopening"));
  check_recovered_from_restart(events);
}

TEST_CASE(
    "a lost stream whose close hangs in the sound libraries is abandoned and the device "
    "reopened",
    "[listen]") {
  // The first close of a stream is made to hang for good (a preloaded stand-in for
  // libpulse's deadlock): the daemon must give up on it after 10 s and reopen.
  const auto events = listen_through_pulseaudio(
      kRestartBursts_s, kRestartRecording_s,
      kRestartOption + " --hang-first-close '" EARSHOT_HANG_FIRST_STREAM_ABORT "'");
  const auto errors = of_type(events, "error");
  REQUIRE(errors.size() == 2);
  CHECK_THAT(errors[0]["message"].get<std::string>(), Contains("audio device 'pulse' lost"));
  CHECK_THAT(errors[1]["message"].get<std::string>(),
             Contains("did not finish within 10 s") && Contains("abandoned"));
  check_recovered_from_restart(events);
}

namespace {

struct HungDeviceRun {
  std::vector<nlohmann::json> events;
  std::string daemon_status;  // its exit status, or "killed" if it still ran after 60 s
};

// Runs the daemon where a device call hangs (tests/listen_hung_device.sh).
HungDeviceRun listen_with_hung_device(const std::string& script_options,
                                      const std::string& listen_flags) {
  const auto dir = testing::fresh_test_directory(EARSHOT_TEST_TMP);
  const auto model = save_tone_model(dir / "tone.earshot");
  const auto out = dir / "events.jsonl";
  const std::string command = "bash '" + kHungDeviceScript.string() + "' " + script_options + " '" +
                              EARSHOT_BINARY + "' '" + model.string() + "' '" + out.string() +
                              "' " + listen_flags;
  const int status = std::system(command.c_str());
  INFO("command: " << command);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  std::string daemon_status;
  std::ifstream(out.string() + ".status") >> daemon_status;
  return {read_events(out), daemon_status};
}

// What a daemon that gave up on a hung call must show: exit 1, never "started", one error
// line saying what hung (`what_hung`, which did not finish within the `deadline_s` given as
// --device-timeout), and a final status line.
void check_given_up(const HungDeviceRun& run, const std::string& what_hung, int deadline_s) {
  CHECK(run.daemon_status == "1");
  CHECK(of_type(run.events, "started").empty());
  const auto errors = of_type(run.events, "error");
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0]["message"].get<std::string>(),
             Contains(fmt::format("{} did not finish within {} s", what_hung, deadline_s)) &&
                 Contains("giving up"));
  REQUIRE_FALSE(run.events.empty());
  CHECK(run.events.back()["type"] == "status");
  CHECK(run.events.back()["final"] == true);
}

}  // namespace

TEST_CASE("a frozen sound server: the hung open is given up after --device-timeout, exit 1",
          "[listen]") {
  // Before the deadline existed the daemon waited in the open for ever, deaf to SIGTERM.
  check_given_up(listen_with_hung_device("", "--device-timeout 2"), "opening audio device 'pulse'",
                 2);
}

TEST_CASE("SIGTERM during a hung open ends the daemon without waiting for the deadline",
          "[listen]") {
  // The deadline (120 s) lies beyond the script's 60 s: a daemon that waited for it instead
  // of the stop would still be running then, and be killed.
  const HungDeviceRun run = listen_with_hung_device("--stop-after 2", "--device-timeout 120");
  CHECK(run.daemon_status == "0");
  CHECK(of_type(run.events, "started").empty());
  CHECK(of_type(run.events, "error").empty());
  REQUIRE_FALSE(run.events.empty());
  CHECK(run.events.back()["final"] == true);
}

TEST_CASE("a frozen sound server: --list-devices gives up after --device-timeout, exit 1",
          "[listen]") {
  const HungDeviceRun run = listen_with_hung_device("", "--list-devices --device-timeout 2");
  CHECK(run.daemon_status == "1");
  CHECK(run.events.empty());  // nothing on stdout: the reason goes to stderr
}

// The deadline in the next tests also bounds the healthy open before the broken call: 6 s,
// for a sanitizer build on a loaded machine (2 s was once too short for the open there).
constexpr int kDeadlineAfterHealthyOpen_s = 6;

TEST_CASE("a stream start that hangs in the sound libraries is given up, exit 1", "[listen]") {
  // A running server, and a preloaded stand-in that makes the first Pa_StartStream hang.
  check_given_up(
      listen_with_hung_device("--preload '" EARSHOT_HANG_FIRST_STREAM_START "'",
                              fmt::format("--device-timeout {}", kDeadlineAfterHealthyOpen_s)),
      "starting audio device 'pulse'", kDeadlineAfterHealthyOpen_s);
}

TEST_CASE("a stream start that fails, and whose close then hangs, is given up, exit 1",
          "[listen]") {
  // Stand-ins make the first Pa_StartStream fail and the first Pa_AbortStream (the close of
  // the stream that did not start) hang. Before this close had a deadline, the daemon waited
  // in it for ever.
  const HungDeviceRun run = listen_with_hung_device(
      "--preload '" EARSHOT_FAIL_FIRST_STREAM_START " " EARSHOT_HANG_FIRST_STREAM_ABORT "'",
      fmt::format("--device-timeout {}", kDeadlineAfterHealthyOpen_s));
  check_given_up(run, "closing what was opened", kDeadlineAfterHealthyOpen_s);
  CHECK_THAT(of_type(run.events, "error")[0]["message"].get<std::string>(),
             Contains("cannot start capture on 'pulse'"));
}

TEST_CASE(
    "a sound server that freezes while the daemon listens: the loss is reported and the "
    "reopen that hangs is given up, exit 1",
    "[listen]") {
  // The server is frozen (SIGSTOP) once the daemon has started: no audio comes, so after
  // 5 s the stream counts as lost; its close may hang in the frozen server too (abandoned
  // after the deadline); then the reopen hangs in the open, which must be given up after the
  // deadline rather than waited in for ever.
  const HungDeviceRun run = listen_with_hung_device(
      "--freeze-when-started", fmt::format("--device-timeout {}", kDeadlineAfterHealthyOpen_s));
  CHECK(run.daemon_status == "1");
  CHECK(of_type(run.events, "started").size() == 1);
  const auto errors = of_type(run.events, "error");
  REQUIRE(errors.size() >= 2);
  CHECK_THAT(errors.front()["message"].get<std::string>(),
             Contains("audio device 'pulse' lost") && Contains("no audio arrived"));
  CHECK_THAT(errors.back()["message"].get<std::string>(),
             Contains(fmt::format("opening audio device 'pulse' did not finish within {} s",
                                  kDeadlineAfterHealthyOpen_s)) &&
                 Contains("giving up"));
  REQUIRE_FALSE(run.events.empty());
  CHECK(run.events.back()["type"] == "status");
  CHECK(run.events.back()["final"] == true);
}

TEST_CASE("SIGTERM while the close after a failed start hangs ends the daemon at once, exit 0",
          "[listen]") {
  // As above, with a deadline (120 s) past the script's 60 s: only heeding the stop ends it.
  // The stop comes once the close has begun to hang (the stand-in marks it), not after a
  // guessed delay that a slow open could outlast.
  const HungDeviceRun run =
      listen_with_hung_device("--stop-when-hung --preload '" EARSHOT_FAIL_FIRST_STREAM_START
                              " " EARSHOT_HANG_FIRST_STREAM_ABORT "'",
                              "--device-timeout 120");
  CHECK(run.daemon_status == "0");
  CHECK(of_type(run.events, "started").empty());
  const auto errors = of_type(run.events, "error");
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0]["message"].get<std::string>(),
             Contains("cannot start capture on 'pulse'") &&
                 Contains("stopped while closing what was opened"));
  REQUIRE_FALSE(run.events.empty());
  CHECK(run.events.back()["final"] == true);
}
