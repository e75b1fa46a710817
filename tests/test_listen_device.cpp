// Specification of device choice (--device), of what the device scan loads, and of the retry
// pacing after a device is lost. Capture through PortAudio is exercised by
// tests/listen_pulseaudio.sh against a real sound server.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "audio_helpers.hpp"
#include "earshot/error.hpp"
#include "earshot/listen_device.hpp"
#include "earshot/listen_device_supervisor.hpp"

using namespace earshot::listen;
using Catch::Matchers::Contains;

namespace {

std::vector<InputDevice> some_devices() {
  return {{0, "HDA Intel PCH: ALC257 Analog (hw:0,0)", "ALSA", 2, 44100, false},
          {3, "USB Audio Device: Mic (hw:1,0)", "ALSA", 1, 48000, false},
          {7, "pulse", "ALSA", 32, 44100, false},
          {8, "default", "ALSA", 32, 44100, true}};
}

// Every library that `earshot listen --list-devices` loads, as the dynamic loader reports it
// (LD_DEBUG=files, glibc). The daemon runs in its own process, with the sanitizers' leak and
// race reports off, so that the sound libraries' own leaks and races (see
// tests/listen_pulseaudio.sh) neither stop the scan nor fail this test; its exit status is
// not the point here.
std::string libraries_loaded_by_device_scan() {
  const auto dir = earshot::testing::fresh_test_directory(EARSHOT_TEST_TMP);
  // No sound server is started as a side effect of the scan.
  std::ofstream(dir / "client.conf") << "autospawn = no\n";
  const std::string command = "PULSE_CLIENTCONFIG='" + (dir / "client.conf").string() +
                              "' ASAN_OPTIONS=\"$ASAN_OPTIONS:detect_leaks=0\"" +
                              " TSAN_OPTIONS=\"$TSAN_OPTIONS report_bugs=0\" LD_DEBUG=files " +
                              "LD_DEBUG_OUTPUT='" + (dir / "loader").string() + "' '" +
                              EARSHOT_BINARY + "' listen --list-devices >/dev/null 2>&1";
  [[maybe_unused]] const int status = std::system(command.c_str());
  std::string log;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().filename().string().rfind("loader.", 0) != 0) continue;
    std::ostringstream text;
    text << std::ifstream(entry.path()).rdbuf();
    log += text.str();
  }
  return log;
}

}  // namespace

TEST_CASE("no --device means the default input device", "[listen]") {
  CHECK(match_input_device(some_devices(), "").index == 8);
}

TEST_CASE("without a marked default the first input device is used", "[listen]") {
  auto devices = some_devices();
  devices.back().is_default = false;
  CHECK(match_input_device(devices, "").index == 0);
}

TEST_CASE("a number picks the device with that PortAudio index", "[listen]") {
  CHECK(match_input_device(some_devices(), "3").name == "USB Audio Device: Mic (hw:1,0)");
  CHECK_THROWS_WITH(match_input_device(some_devices(), "5"),
                    Contains("no input device with index 5"));
}

TEST_CASE("a name picks the device it names exactly, else the one it is part of", "[listen]") {
  CHECK(match_input_device(some_devices(), "pulse").index == 7);
  CHECK(match_input_device(some_devices(), "PULSE").index == 7);
  CHECK(match_input_device(some_devices(), "usb").index == 3);
}

TEST_CASE("a name that matches several devices is refused with the candidates", "[listen]") {
  CHECK_THROWS_WITH(match_input_device(some_devices(), "hw:"),
                    Contains("several") && Contains("[0]") && Contains("[3]"));
}

TEST_CASE("a name that matches nothing lists the devices there are", "[listen]") {
  CHECK_THROWS_WITH(match_input_device(some_devices(), "bluetooth"),
                    Contains("bluetooth") && Contains("'pulse'") && Contains("'default'"));
}

TEST_CASE("no device at all is an error that says so", "[listen]") {
  CHECK_THROWS_WITH(match_input_device({}, ""), Contains("no audio input device found"));
}

TEST_CASE("the device scan probes ALSA's plugin PCMs but not the playback-only a52 encoder",
          "[listen]") {
  // libasound2-plugins' a52 module links libavcodec and some 75 libraries behind it: about
  // 13 MiB of the daemon's resident memory (28 -> 15 MiB peak capturing from PulseAudio,
  // tools/measure_listen_rss.sh).
  const std::string loaded = libraries_loaded_by_device_scan();
  REQUIRE_THAT(loaded, Contains("libasound_module_pcm_pulse.so"));
  CHECK_THAT(loaded, !Contains("libasound_module_pcm_a52.so"));
  CHECK_THAT(loaded, !Contains("libavcodec"));
}

TEST_CASE("retries back off exponentially from 0.5 s up to 30 s", "[listen]") {
  Backoff backoff(0.5, 30.0);
  std::vector<double> waits;
  for (int i = 0; i < 9; ++i)
    waits.push_back(backoff.next_s());
  CHECK(waits == std::vector<double>{0.5, 1, 2, 4, 8, 16, 30, 30, 30});
  backoff.reset();
  CHECK(backoff.next_s() == 0.5);
}

TEST_CASE("a backoff must start above zero and not above its cap", "[listen]") {
  CHECK_THROWS_AS(Backoff(0.0, 30.0), earshot::Error);
  CHECK_THROWS_AS(Backoff(5.0, 1.0), earshot::Error);
}
