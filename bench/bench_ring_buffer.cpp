// Throughput of RingBuffer<float> between a producer thread and a consumer thread, for
// several chunk sizes (a PortAudio callback delivers one chunk at a time).
//
// items_per_second is samples moved per second of wall time; x_realtime_16kHz is how many
// 16 kHz microphones one buffer could carry at that rate.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "earshot/audio_io.hpp"
#include "earshot/ring_buffer.hpp"

namespace {

constexpr std::size_t kCapacity = 16384;  // about 1 s of audio at 16 kHz
constexpr std::size_t kSamplesPerIteration = std::size_t{1} << 16;

// Reads until told to stop and the buffer is empty; returns the number of samples read.
std::uint64_t drain(earshot::RingBuffer<float>& ring, std::size_t chunk_samples,
                    const std::atomic<bool>& stop) {
  std::vector<float> chunk(chunk_samples);
  std::uint64_t received = 0;
  for (;;) {
    const std::size_t count = ring.read(chunk);
    benchmark::DoNotOptimize(chunk.data());
    benchmark::ClobberMemory();
    received += count;
    if (count == 0) {
      if (stop.load(std::memory_order_acquire) && ring.available_to_read() == 0) return received;
      std::this_thread::yield();
    }
  }
}

void BM_RingBufferProducerToConsumer(benchmark::State& state) {
  const auto chunk_samples = static_cast<std::size_t>(state.range(0));
  earshot::RingBuffer<float> ring(kCapacity);
  std::atomic<bool> stop{false};
  std::uint64_t received = 0;
  std::thread consumer([&] { received = drain(ring, chunk_samples, stop); });

  // The producer waits for room instead of dropping, so the figure is what the buffer can
  // carry without loss.
  const std::vector<float> chunk(chunk_samples, 0.25f);
  std::uint64_t sent = 0;
  for (auto _ : state) {
    for (std::size_t in_iteration = 0; in_iteration < kSamplesPerIteration;) {
      while (ring.available_to_write() < chunk_samples)
        std::this_thread::yield();
      in_iteration += ring.write(chunk);
    }
    sent += kSamplesPerIteration;
  }
  stop.store(true, std::memory_order_release);
  consumer.join();

  if (received != sent || ring.dropped() != 0) {
    state.SkipWithError("samples were lost between producer and consumer");
    return;
  }
  const auto samples = static_cast<double>(sent);
  state.SetItemsProcessed(static_cast<std::int64_t>(sent));
  state.counters["x_realtime_16kHz"] =
      benchmark::Counter(samples / earshot::kSampleRate, benchmark::Counter::kIsRate);
}

BENCHMARK(BM_RingBufferProducerToConsumer)
    ->ArgName("chunk_samples")
    ->Arg(16)
    ->Arg(64)
    ->Arg(256)
    ->Arg(1024)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
