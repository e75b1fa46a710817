// Specification of earshot::RingBuffer: a lock-free SPSC buffer that never blocks the
// producer and counts every sample it had to drop.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <numeric>
#include <random>
#include <thread>
#include <vector>

#include "earshot/ring_buffer.hpp"

namespace {

using earshot::RingBuffer;

std::vector<std::uint32_t> sequence(std::uint32_t first, std::size_t count) {
  std::vector<std::uint32_t> values(count);
  std::iota(values.begin(), values.end(), first);
  return values;
}

// Uniform integer in [low, high], independent of the standard library's distributions.
std::size_t uniform_size(std::mt19937_64& rng, std::size_t low, std::size_t high) {
  const double unit = static_cast<double>(rng() >> 11) * 0x1.0p-53;
  return low + static_cast<std::size_t>(unit * static_cast<double>(high - low + 1));
}

}  // namespace

TEST_CASE("capacity must be a power of two greater than zero", "[ring_buffer]") {
  CHECK_THROWS_AS(RingBuffer<float>(0), earshot::Error);
  CHECK_THROWS_AS(RingBuffer<float>(3), earshot::Error);
  CHECK_THROWS_AS(RingBuffer<float>(1000), earshot::Error);
  CHECK_THROWS_WITH(RingBuffer<float>(1000),
                    Catch::Contains("power of two") && Catch::Contains("1000"));
  CHECK(RingBuffer<float>(1).capacity() == 1);
  CHECK(RingBuffer<float>(2).capacity() == 2);
  CHECK(RingBuffer<float>(1024).capacity() == 1024);
}

TEST_CASE("a new buffer is empty with every slot free", "[ring_buffer]") {
  RingBuffer<float> ring(8);
  CHECK(ring.available_to_read() == 0);
  CHECK(ring.available_to_write() == 8);
  CHECK(ring.dropped() == 0);
  std::vector<float> out(4, -1.0f);
  CHECK(ring.read(out) == 0);
  CHECK(out == std::vector<float>(4, -1.0f));
}

TEST_CASE("samples come out in the order they went in", "[ring_buffer]") {
  RingBuffer<std::uint32_t> ring(8);
  const auto in = sequence(100, 5);
  REQUIRE(ring.write(in) == 5);
  CHECK(ring.available_to_read() == 5);
  CHECK(ring.available_to_write() == 3);
  std::vector<std::uint32_t> out(5);
  REQUIRE(ring.read(out) == 5);
  CHECK(out == in);
  CHECK(ring.available_to_read() == 0);
}

TEST_CASE("read returns only what is available when asked for more", "[ring_buffer]") {
  RingBuffer<std::uint32_t> ring(8);
  REQUIRE(ring.write(sequence(0, 3)) == 3);
  std::vector<std::uint32_t> out(8, 99);
  REQUIRE(ring.read(out) == 3);
  CHECK(std::vector<std::uint32_t>(out.begin(), out.begin() + 3) == sequence(0, 3));
  CHECK(out[3] == 99);
}

TEST_CASE("read takes at most the destination's size and leaves the rest", "[ring_buffer]") {
  RingBuffer<std::uint32_t> ring(8);
  REQUIRE(ring.write(sequence(0, 6)) == 6);
  std::vector<std::uint32_t> out(4);
  REQUIRE(ring.read(out) == 4);
  CHECK(out == sequence(0, 4));
  CHECK(ring.available_to_read() == 2);
}

TEST_CASE("empty spans move nothing", "[ring_buffer]") {
  RingBuffer<float> ring(4);
  CHECK(ring.write(std::span<const float>{}) == 0);
  CHECK(ring.read(std::span<float>{}) == 0);
  CHECK(ring.dropped() == 0);
  CHECK(ring.available_to_write() == 4);
}

TEST_CASE("a buffer filled to exactly its capacity drops nothing", "[ring_buffer]") {
  RingBuffer<std::uint32_t> ring(8);
  CHECK(ring.write(sequence(0, 8)) == 8);
  CHECK(ring.available_to_write() == 0);
  CHECK(ring.available_to_read() == 8);
  CHECK(ring.dropped() == 0);
}

TEST_CASE("writing to a full buffer drops the whole chunk and counts it", "[ring_buffer]") {
  RingBuffer<std::uint32_t> ring(8);
  REQUIRE(ring.write(sequence(0, 8)) == 8);
  CHECK(ring.write(sequence(8, 5)) == 0);
  CHECK(ring.dropped() == 5);
  std::vector<std::uint32_t> out(8);
  REQUIRE(ring.read(out) == 8);
  CHECK(out == sequence(0, 8));
}

TEST_CASE("a partial write keeps the oldest samples and counts exactly the newest dropped",
          "[ring_buffer]") {
  RingBuffer<std::uint32_t> ring(8);
  REQUIRE(ring.write(sequence(0, 6)) == 6);
  CHECK(ring.write(sequence(6, 5)) == 2);  // samples 6 and 7 fit; 8, 9, 10 do not
  CHECK(ring.dropped() == 3);
  std::vector<std::uint32_t> out(8);
  REQUIRE(ring.read(out) == 8);
  CHECK(out == sequence(0, 8));
}

TEST_CASE("a chunk larger than the whole buffer keeps the first capacity samples",
          "[ring_buffer]") {
  RingBuffer<std::uint32_t> ring(4);
  CHECK(ring.write(sequence(0, 10)) == 4);
  CHECK(ring.dropped() == 6);
  std::vector<std::uint32_t> out(4);
  REQUIRE(ring.read(out) == 4);
  CHECK(out == sequence(0, 4));
}

TEST_CASE("dropped samples accumulate over many overruns", "[ring_buffer]") {
  RingBuffer<std::uint32_t> ring(4);
  REQUIRE(ring.write(sequence(0, 4)) == 4);
  for (int attempt = 0; attempt < 10; ++attempt)
    ring.write(sequence(0, 3));
  CHECK(ring.dropped() == 30);
}

TEST_CASE("reading frees slots for the producer again", "[ring_buffer]") {
  RingBuffer<std::uint32_t> ring(4);
  REQUIRE(ring.write(sequence(0, 4)) == 4);
  std::vector<std::uint32_t> out(3);
  REQUIRE(ring.read(out) == 3);
  CHECK(ring.available_to_write() == 3);
  CHECK(ring.write(sequence(4, 3)) == 3);
  CHECK(ring.dropped() == 0);
}

TEST_CASE("a chunk that crosses the end of storage wraps around intact", "[ring_buffer]") {
  RingBuffer<std::uint32_t> ring(8);
  std::vector<std::uint32_t> out(6);
  REQUIRE(ring.write(sequence(0, 6)) == 6);
  REQUIRE(ring.read(out) == 6);
  // Slots 6, 7 then 0..3: the write and the read are both split in two.
  REQUIRE(ring.write(sequence(6, 6)) == 6);
  REQUIRE(ring.read(out) == 6);
  CHECK(out == sequence(6, 6));
}

TEST_CASE("odd chunk sizes round a small buffer many times without loss", "[ring_buffer]") {
  // Writes of 3 and reads of 5 through 8 slots: the positions where copies split drift
  // through every slot.
  constexpr std::uint32_t kTotal = 1200;
  RingBuffer<float> ring(8);
  std::vector<float> received;
  std::vector<float> chunk(5);
  auto drain_one_chunk = [&] {
    const std::size_t count = ring.read(chunk);
    received.insert(received.end(), chunk.begin(), chunk.begin() + count);
    return count;
  };
  for (std::uint32_t sent = 0; sent < kTotal;) {
    if (ring.available_to_write() >= 3) {
      const float in[3] = {float(sent), float(sent + 1), float(sent + 2)};
      REQUIRE(ring.write(in) == 3);
      sent += 3;
    } else {
      drain_one_chunk();
    }
  }
  while (drain_one_chunk() > 0) {
  }
  REQUIRE(received.size() == kTotal);
  for (std::size_t i = 0; i < received.size(); ++i)
    REQUIRE(received[i] == float(i));
  CHECK(ring.dropped() == 0);
}

// Two threads, 10^8 samples. Each sample's value is its sequence number, so the consumer can
// check that what arrives is in order and that every gap is exactly a range the producer was
// told it had dropped. The producer usually waits for room (like a paced audio callback) but
// one chunk in 16 it writes regardless, and the consumer sometimes sleeps, so real overruns
// happen.
namespace {

constexpr std::uint64_t kStressSamples = 100'000'000;
constexpr std::size_t kStressMaxChunk = 1024;

struct SampleRange {
  std::uint64_t first;
  std::uint64_t count;
  bool operator==(const SampleRange&) const = default;
};

// Appends `range`, merging it into the last range when they touch.
void append_merged(std::vector<SampleRange>& ranges, SampleRange range) {
  if (!ranges.empty() && ranges.back().first + ranges.back().count == range.first) {
    ranges.back().count += range.count;
  } else {
    ranges.push_back(range);
  }
}

// Writes samples 0, 1, 2, ... in random chunk sizes; returns the ranges write() dropped.
std::vector<SampleRange> produce_sequence(RingBuffer<std::uint32_t>& ring, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::uint32_t> chunk(kStressMaxChunk);
  std::vector<SampleRange> dropped;
  for (std::uint64_t next = 0; next < kStressSamples;) {
    const auto size = static_cast<std::size_t>(
        std::min<std::uint64_t>(uniform_size(rng, 1, kStressMaxChunk), kStressSamples - next));
    for (std::size_t i = 0; i < size; ++i)
      chunk[i] = static_cast<std::uint32_t>(next + i);
    const bool impatient = uniform_size(rng, 0, 15) == 0;
    while (!impatient && ring.available_to_write() < size)
      std::this_thread::yield();
    const std::size_t written = ring.write(std::span(chunk.data(), size));
    if (written < size) append_merged(dropped, {next + written, size - written});
    next += size;
  }
  return dropped;
}

// What the consumer saw. Catch2 assertions are not thread-safe, so the consumer records and
// the test thread checks.
struct ConsumerReport {
  std::uint64_t consumed = 0;
  std::uint64_t out_of_order = 0;
  std::uint64_t gaps_ahead_of_drop_count = 0;  // reads after which dropped() < gaps seen
  std::vector<SampleRange> gaps;
};

// Reads in random chunk sizes until the producer is done and the buffer is empty.
ConsumerReport consume_sequence(RingBuffer<std::uint32_t>& ring,
                                const std::atomic<bool>& producer_done, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::uint32_t> chunk(kStressMaxChunk);
  ConsumerReport report;
  std::uint64_t expected = 0;
  std::uint64_t gap_total = 0;
  for (;;) {
    if (uniform_size(rng, 0, 255) == 0) std::this_thread::sleep_for(std::chrono::microseconds(50));
    const std::size_t count =
        ring.read(std::span(chunk.data(), uniform_size(rng, 1, kStressMaxChunk)));
    for (std::size_t i = 0; i < count; ++i) {
      const std::uint64_t value = chunk[i];
      if (value < expected) {
        ++report.out_of_order;
        continue;
      }
      if (value > expected) append_merged(report.gaps, {expected, value - expected});
      gap_total += value - expected;
      expected = value + 1;
    }
    report.consumed += count;
    // A drop is counted before any later sample is published, so it is visible by now.
    if (gap_total > ring.dropped()) ++report.gaps_ahead_of_drop_count;
    if (count == 0) {
      if (producer_done.load(std::memory_order_acquire) && ring.available_to_read() == 0) break;
      std::this_thread::yield();  // two cores may be all the machine has
    }
  }
  // Samples dropped at the very end leave no later sample to reveal the gap.
  if (expected < kStressSamples) append_merged(report.gaps, {expected, kStressSamples - expected});
  return report;
}

}  // namespace

TEST_CASE("two threads move 10^8 samples in order, every loss counted as dropped",
          "[ring_buffer][stress]") {
  RingBuffer<std::uint32_t> ring(4096);
  std::atomic<bool> producer_done{false};
  std::vector<SampleRange> dropped_ranges;
  std::thread producer([&] {
    dropped_ranges = produce_sequence(ring, 20240601);
    producer_done.store(true, std::memory_order_release);
  });
  ConsumerReport report;
  std::thread consumer([&] { report = consume_sequence(ring, producer_done, 20240602); });
  producer.join();
  consumer.join();

  INFO("consumed " << report.consumed << ", dropped " << ring.dropped());
  CHECK(report.out_of_order == 0);
  CHECK(report.gaps_ahead_of_drop_count == 0);
  CHECK(report.consumed + ring.dropped() == kStressSamples);
  CHECK(report.gaps == dropped_ranges);
  CHECK(ring.dropped() > 0);  // overruns really happened...
  // ...and only the impatient chunks (1 in 16) could lose samples.
  CHECK(report.consumed > kStressSamples / 2);
}
