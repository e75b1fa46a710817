#include "earshot/listen_file_replay.hpp"

#include <chrono>
#include <vector>

namespace earshot::listen {
namespace {

constexpr std::chrono::microseconds kFullBufferPoll{500};
constexpr std::chrono::milliseconds kFinishPoll{20};

}  // namespace

FileReplay::FileReplay(const std::filesystem::path& path, CaptureBuffer& capture,
                       ReplayPacing pacing, std::function<void(const std::string&)> on_error)
    : reader_(path), capture_(capture), pacing_(pacing), on_error_(std::move(on_error)) {}

FileReplay::~FileReplay() {
  stop();
}

void FileReplay::start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { play(); });
}

void FileReplay::stop() {
  stop_requested_.store(true, std::memory_order_release);
  if (thread_.joinable()) thread_.join();
  finished_.store(true, std::memory_order_release);
}

void FileReplay::wait(StopToken& stop_token) const {
  while (!finished() && !stop_token.wait_for(kFinishPoll)) {
  }
}

void FileReplay::play() {
  using Clock = std::chrono::steady_clock;
  std::vector<float> chunk;
  chunk.reserve(kChunkSamples);
  const Clock::time_point start = Clock::now();
  std::uint64_t delivered = 0;
  while (!stop_requested_.load(std::memory_order_acquire)) {
    chunk.clear();
    try {
      if (reader_.read(chunk, kChunkSamples) == 0) break;
    } catch (const std::exception& e) {
      if (on_error_) on_error_(e.what());
      break;
    }
    if (pacing_ == ReplayPacing::kRealTime) {
      const auto recorded_by = std::chrono::duration<double>(
          static_cast<double>(delivered + chunk.size()) / kSampleRate);
      std::this_thread::sleep_until(start +
                                    std::chrono::duration_cast<Clock::duration>(recorded_by));
    } else {
      wait_for_room(chunk.size());
    }
    capture_.deliver(chunk, false);
    delivered += chunk.size();
  }
  finished_.store(true, std::memory_order_release);
}

void FileReplay::wait_for_room(std::size_t samples) {
  while (capture_.available_to_write() < samples &&
         !stop_requested_.load(std::memory_order_acquire)) {
    std::this_thread::sleep_for(kFullBufferPoll);
  }
}

}  // namespace earshot::listen
