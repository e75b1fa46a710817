#include "earshot/listen_model_reload.hpp"

#include <fmt/format.h>

#include "earshot/audio_io.hpp"
#include "earshot/error.hpp"
#include "earshot/model_file.hpp"

namespace earshot::listen {

std::shared_ptr<const Model> load_listen_model(const std::filesystem::path& path) {
  auto model = std::make_shared<const Model>(load_model(path));
  const int rate = model->metadata().frontend.sample_rate;
  if (rate != kSampleRate) {
    throw Error(fmt::format("model file '{}' expects {} Hz audio; earshot listen feeds {} Hz",
                            path.string(), rate, kSampleRate));
  }
  if (model->metadata().keywords.empty() || model->metadata().keywords.front().empty()) {
    throw Error(fmt::format("model file '{}' names no keyword", path.string()));
  }
  return model;
}

void ModelHandoff::offer(std::shared_ptr<const Model> model) {
  std::lock_guard lock(mutex_);
  offered_ = std::move(model);
  has_offer_.store(true, std::memory_order_release);
}

std::shared_ptr<const Model> ModelHandoff::take() {
  if (!has_offer_.load(std::memory_order_acquire)) return nullptr;
  std::lock_guard lock(mutex_);
  has_offer_.store(false, std::memory_order_relaxed);
  return std::move(offered_);
}

}  // namespace earshot::listen
