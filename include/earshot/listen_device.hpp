// Live capture with PortAudio: finding an input device and running a capture stream on it.
//
// The stream asks for 16 kHz first and the device's default rate otherwise, and for one
// channel, else two (mixed down later by the worker, never in the callback). Its callback
// is the whole real-time path: CaptureBuffer::deliver() and `return paContinue` (an atomic
// load first: a stream about to be abandoned stops delivering).
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "earshot/listen_capture_buffer.hpp"

typedef void PaStream;  // NOLINT: PortAudio's own spelling, so <portaudio.h> stays private

namespace earshot::listen {

struct InputDevice {
  int index = -1;  // PortAudio's device index, valid for one PortAudioSession
  std::string name;
  std::string host_api;
  int max_input_channels = 0;
  double default_sample_rate = 0;
  bool is_default = false;  // PortAudio's default input device
};

// Picks the device a `--device` value names, from `devices` (input devices only):
//   ""            the default input device (else the first one);
//   all digits    the device with that index;
//   anything else the device whose name equals it, else the only one whose name contains it
//                 (case-insensitive).
// Throws earshot::Error when there is no device at all, nothing matches, or a substring
// matches several devices (the message lists them).
const InputDevice& match_input_device(const std::vector<InputDevice>& devices,
                                      const std::string& spec);

// PortAudio initialised for as long as this lives. Initialising again is also how PortAudio
// notices devices that appeared or vanished, so the supervisor recreates it between retries.
// The sound libraries are prepared for its device scan first (listen_sound_libraries.hpp):
// quiet unless EARSHOT_ALSA_DEBUG is set, and without ALSA's a52 encoder plugin.
class PortAudioSession {
 public:
  PortAudioSession();  // throws earshot::Error
  ~PortAudioSession();
  PortAudioSession(const PortAudioSession&) = delete;
  PortAudioSession& operator=(const PortAudioSession&) = delete;

  std::vector<InputDevice> input_devices() const;
};

// One open input stream feeding a CaptureBuffer. Lives inside a PortAudioSession.
class DeviceCapture {
 public:
  // Opens, does not start. Throws earshot::Error if no supported format opens.
  DeviceCapture(const InputDevice& device, CaptureBuffer& capture);
  // Stops (waiting for a running callback to return) and closes the stream.
  ~DeviceCapture();
  DeviceCapture(const DeviceCapture&) = delete;
  DeviceCapture& operator=(const DeviceCapture&) = delete;

  const CaptureFormat& format() const { return format_; }
  const InputDevice& device() const { return device_; }
  void start();  // throws earshot::Error
  // Empty while the stream runs; otherwise why it stopped (the device went away, an error).
  std::string failure() const;
  // From now on the callback delivers nothing and asks PortAudio to stop the stream: for a
  // stream about to be abandoned, whose thread must never write into the CaptureBuffer again
  // once another stream feeds it (the buffer takes one producer).
  void stop_delivering() { context_.delivering.store(false, std::memory_order_release); }

  // What the PortAudio callback and the stream-finished callback reach through user data.
  struct CallbackContext {
    CaptureBuffer* capture = nullptr;
    unsigned long channels = 1;
    std::atomic<bool> delivering{true};
    std::atomic<bool> finished{false};
  };

 private:
  InputDevice device_;
  CaptureFormat format_;
  CallbackContext context_;
  PaStream* stream_ = nullptr;
};

}  // namespace earshot::listen
