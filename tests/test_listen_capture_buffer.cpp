// Specification of the producer -> worker hand-off of `earshot listen` (CaptureBuffer):
// the producer never waits, and every sample is either handed over in order or counted.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "earshot/error.hpp"
#include "earshot/listen_capture_buffer.hpp"

using earshot::listen::CaptureBuffer;
using earshot::listen::CaptureFormat;
using earshot::listen::ring_capacity_for;

namespace {

// Samples numbered first, first + 1, ... (exact in float below 2^24).
std::vector<float> numbered(std::uint32_t first, std::size_t count) {
  std::vector<float> values(count);
  for (std::size_t i = 0; i < count; ++i)
    values[i] = static_cast<float>(first + i);
  return values;
}

}  // namespace

TEST_CASE("a full buffer keeps the oldest samples and counts every dropped one", "[listen]") {
  CaptureBuffer capture(1024);
  capture.deliver(numbered(0, 1000), false);
  capture.deliver(numbered(1000, 500), false);  // only 24 of these fit
  CHECK(capture.overrun_samples() == 476);
  std::vector<float> out(2048);
  REQUIRE(capture.read(out) == 1024);
  out.resize(1024);
  CHECK(out == numbered(0, 1024));
}

TEST_CASE("a slow consumer loses samples but every delivered sample is read or counted",
          "[listen]") {
  // 2000 callbacks of 160 samples (20 s of 16 kHz audio) into a 4096-sample ring, with a
  // consumer that naps between small reads: drops must happen, and the books must balance.
  constexpr std::size_t kCallbacks = 2000;
  constexpr std::size_t kCallbackSamples = 160;
  CaptureBuffer capture(4096);
  std::atomic<bool> producer_done{false};
  std::thread producer([&] {
    for (std::size_t i = 0; i < kCallbacks; ++i) {
      capture.deliver(numbered(static_cast<std::uint32_t>(i * kCallbackSamples), kCallbackSamples),
                      false);
    }
    producer_done.store(true);
  });
  std::vector<float> received;
  std::vector<float> chunk(64);
  for (;;) {
    const bool done = producer_done.load();
    const std::size_t count = capture.read(chunk);
    received.insert(received.end(), chunk.begin(), chunk.begin() + static_cast<long>(count));
    if (count == 0 && done) break;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  producer.join();

  const std::uint64_t delivered = kCallbacks * kCallbackSamples;
  CHECK(capture.deliveries() == kCallbacks);
  CHECK(capture.overrun_samples() > 0);
  CHECK(received.size() + capture.overrun_samples() == delivered);
  // What arrives is in order, without duplicates: drops only ever cut out whole stretches.
  CHECK(std::is_sorted(received.begin(), received.end()));
  CHECK(std::adjacent_find(received.begin(), received.end()) == received.end());
}

TEST_CASE("stereo frames stay whole when the buffer overflows", "[listen]") {
  CaptureBuffer capture(8);
  // Five frames of (left, right) = (10 i, 10 i + 1): only four fit.
  const std::vector<float> frames = {0, 1, 10, 11, 20, 21, 30, 31, 40, 41};
  capture.deliver(frames, false);
  CHECK(capture.overrun_samples() == 2);
  std::vector<float> out(8);
  REQUIRE(capture.read(out) == 8);
  CHECK(out == std::vector<float>{0, 1, 10, 11, 20, 21, 30, 31});
}

TEST_CASE("device input overflows are counted per callback, apart from overruns", "[listen]") {
  CaptureBuffer capture(64);
  capture.deliver(numbered(0, 16), true);
  capture.deliver(numbered(16, 16), false);
  capture.deliver(numbered(32, 16), true);
  CHECK(capture.input_overflows() == 2);
  CHECK(capture.overrun_samples() == 0);
  CHECK(capture.deliveries() == 3);
}

TEST_CASE("a new format is adopted by the worker before the producer may start", "[listen]") {
  CaptureBuffer capture(64);
  CHECK_FALSE(capture.adopt_announced_format().has_value());
  capture.announce_format({48000.0, 2});
  CHECK_FALSE(capture.wait_format_adopted(std::chrono::milliseconds(0)));
  const auto adopted = capture.adopt_announced_format();
  REQUIRE(adopted.has_value());
  CHECK(*adopted == CaptureFormat{48000.0, 2});
  CHECK(capture.wait_format_adopted(std::chrono::milliseconds(0)));
  CHECK_FALSE(capture.adopt_announced_format().has_value());  // nothing newer
}

TEST_CASE("the adopting worker wakes an announcer waiting on another thread", "[listen]") {
  CaptureBuffer capture(64);
  capture.announce_format({44100.0, 1});
  std::thread worker([&] {
    while (!capture.adopt_announced_format())
      std::this_thread::yield();
  });
  CHECK(capture.wait_format_adopted(std::chrono::seconds(60)));
  worker.join();
}

TEST_CASE("only one or two channels can be announced", "[listen]") {
  CaptureBuffer capture(64);
  CHECK_THROWS_WITH(capture.announce_format({16000.0, 3}), Catch::Contains("1 or 2 channels"));
}

TEST_CASE("ring capacity is the power of two holding the asked seconds", "[listen]") {
  CHECK(ring_capacity_for({16000.0, 1}, 4.0) == 65536);    // 64000 samples needed
  CHECK(ring_capacity_for({48000.0, 2}, 4.0) == 524288);   // 384000 needed
  CHECK(ring_capacity_for({16000.0, 1}, 4.096) == 65536);  // exactly 65536
  CHECK_THROWS_AS(ring_capacity_for({0.0, 1}, 4.0), earshot::Error);
}
