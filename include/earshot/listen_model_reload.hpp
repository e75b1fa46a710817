// The model the daemon listens with, and its replacement on SIGHUP.
//
// Reloading never stops the audio: the new file is read and checked on the signal thread
// while the worker goes on detecting with the old model; the worker then picks the new one
// up between two chunks (take()) and starts a fresh detector stream with it. If the file is
// bad, the old model simply stays.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>

#include "earshot/model.hpp"

namespace earshot::listen {

// load_model() plus the checks that matter for live use: the model must expect 16 kHz
// audio (the daemon's internal rate) and name a keyword. Throws earshot::Error.
std::shared_ptr<const Model> load_listen_model(const std::filesystem::path& path);

// A one-slot mailbox from the loading thread to the worker; a newer offer replaces an
// older one not yet taken.
class ModelHandoff {
 public:
  void offer(std::shared_ptr<const Model> model);
  // The newest offered model not yet taken, or null. Cheap when there is none.
  std::shared_ptr<const Model> take();

 private:
  std::mutex mutex_;
  std::shared_ptr<const Model> offered_;
  std::atomic<bool> has_offer_{false};
};

}  // namespace earshot::listen
