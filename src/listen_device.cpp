#include "earshot/listen_device.hpp"

#include <fmt/format.h>
#include <portaudio.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "earshot/error.hpp"
#include "earshot/listen_sound_libraries.hpp"

namespace earshot::listen {
namespace {

constexpr double kPreferredRate = 16000.0;

std::string lowercase(std::string text) {
  for (char& c : text)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

bool all_digits(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0;
  });
}

std::string list_names(const std::vector<const InputDevice*>& devices) {
  std::string names;
  for (const InputDevice* device : devices) {
    names += fmt::format("{}[{}] '{}'", names.empty() ? "" : ", ", device->index, device->name);
  }
  return names;
}

void throw_on_error(PaError error, const char* what) {
  if (error != paNoError) throw Error(fmt::format("{}: {}", what, Pa_GetErrorText(error)));
}

int capture_callback(const void* input, void* /*output*/, unsigned long frames,
                     const PaStreamCallbackTimeInfo* /*time*/, PaStreamCallbackFlags flags,
                     void* user_data) {
  auto* context = static_cast<DeviceCapture::CallbackContext*>(user_data);
  if (!context->delivering.load(std::memory_order_acquire)) return paAbort;
  if (input != nullptr) {
    context->capture->deliver({static_cast<const float*>(input), frames * context->channels},
                              (flags & paInputOverflow) != 0);
  }
  return paContinue;
}

void stream_finished(void* user_data) {
  static_cast<DeviceCapture::CallbackContext*>(user_data)->finished.store(
      true, std::memory_order_release);
}

PaStreamParameters input_parameters(const InputDevice& device, int channels) {
  PaStreamParameters parameters{};
  parameters.device = device.index;
  parameters.channelCount = channels;
  parameters.sampleFormat = paFloat32;
  // The high default latency means larger device buffers: a few tens of ms of delay bought
  // against input overflows when the machine is busy.
  parameters.suggestedLatency = Pa_GetDeviceInfo(device.index)->defaultHighInputLatency;
  parameters.hostApiSpecificStreamInfo = nullptr;
  return parameters;
}

}  // namespace

const InputDevice& match_input_device(const std::vector<InputDevice>& devices,
                                      const std::string& spec) {
  if (devices.empty()) {
    throw Error(
        "no audio input device found: PortAudio sees no capture device (is a sound card "
        "present, or a sound server such as PulseAudio running for this user?)");
  }
  if (spec.empty()) {
    const auto found = std::find_if(devices.begin(), devices.end(),
                                    [](const InputDevice& d) { return d.is_default; });
    return found != devices.end() ? *found : devices.front();
  }
  if (all_digits(spec)) {
    const int index = std::atoi(spec.c_str());
    const auto found = std::find_if(devices.begin(), devices.end(),
                                    [index](const InputDevice& d) { return d.index == index; });
    if (found != devices.end()) return *found;
    throw Error(fmt::format("no input device with index {}; --list-devices shows them", index));
  }
  const std::string wanted = lowercase(spec);
  std::vector<const InputDevice*> matches;
  for (const InputDevice& device : devices) {
    const std::string name = lowercase(device.name);
    if (name == wanted) return device;
    if (name.find(wanted) != std::string::npos) matches.push_back(&device);
  }
  if (matches.size() == 1) return *matches.front();
  if (matches.empty()) {
    std::vector<const InputDevice*> all;
    for (const InputDevice& device : devices)
      all.push_back(&device);
    throw Error(
        fmt::format("no input device named like '{}'; there are: {}", spec, list_names(all)));
  }
  throw Error(fmt::format("'{}' matches several input devices: {}; give the index or the full name",
                          spec, list_names(matches)));
}

PortAudioSession::PortAudioSession() {
  prepare_sound_libraries_for_device_scan();
  throw_on_error(Pa_Initialize(), "cannot initialise PortAudio");
}

PortAudioSession::~PortAudioSession() {
  Pa_Terminate();
}

std::vector<InputDevice> PortAudioSession::input_devices() const {
  std::vector<InputDevice> devices;
  const PaDeviceIndex count = Pa_GetDeviceCount();
  const PaDeviceIndex default_input = Pa_GetDefaultInputDevice();
  for (PaDeviceIndex index = 0; index < count; ++index) {
    const PaDeviceInfo* info = Pa_GetDeviceInfo(index);
    if (info == nullptr || info->maxInputChannels < 1) continue;
    const PaHostApiInfo* host_api = Pa_GetHostApiInfo(info->hostApi);
    devices.push_back({index, info->name ? info->name : "", host_api ? host_api->name : "",
                       info->maxInputChannels, info->defaultSampleRate, index == default_input});
  }
  return devices;
}

DeviceCapture::DeviceCapture(const InputDevice& device, CaptureBuffer& capture) : device_(device) {
  context_.capture = &capture;
  std::string tried;
  for (int channels = 1; channels <= std::min(2, device.max_input_channels); ++channels) {
    const PaStreamParameters parameters = input_parameters(device, channels);
    for (double rate : {kPreferredRate, device.default_sample_rate}) {
      if (!(rate > 0)) continue;
      const PaError supported = Pa_IsFormatSupported(&parameters, nullptr, rate);
      if (supported != paFormatIsSupported) {
        tried += fmt::format("; {} Hz x {}: {}", rate, channels, Pa_GetErrorText(supported));
        continue;
      }
      context_.channels = static_cast<unsigned long>(channels);
      const PaError opened =
          Pa_OpenStream(&stream_, &parameters, nullptr, rate, paFramesPerBufferUnspecified,
                        paNoFlag, &capture_callback, &context_);
      if (opened != paNoError) {
        stream_ = nullptr;
        tried += fmt::format("; {} Hz x {}: {}", rate, channels, Pa_GetErrorText(opened));
        continue;
      }
      format_ = {rate, channels};
      Pa_SetStreamFinishedCallback(stream_, &stream_finished);
      return;
    }
  }
  throw Error(
      fmt::format("cannot open input device [{}] '{}' at 16000 Hz or {} Hz, 1 or 2 "
                  "channels{}",
                  device.index, device.name, device.default_sample_rate, tried));
}

DeviceCapture::~DeviceCapture() {
  if (stream_ == nullptr) return;
  // Abort rather than stop: nothing buffered in the device is worth waiting for, and a
  // vanished device may never drain. Either way the callback has returned when it returns.
  Pa_AbortStream(stream_);
  Pa_CloseStream(stream_);
}

void DeviceCapture::start() {
  throw_on_error(Pa_StartStream(stream_),
                 fmt::format("cannot start capture on '{}'", device_.name).c_str());
}

std::string DeviceCapture::failure() const {
  if (context_.finished.load(std::memory_order_acquire)) return "the stream stopped";
  const PaError active = Pa_IsStreamActive(stream_);
  if (active == 1) return {};
  if (active == 0) return "the stream is no longer active";
  return Pa_GetErrorText(active);
}

}  // namespace earshot::listen
