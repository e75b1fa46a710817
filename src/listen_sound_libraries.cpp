#include "earshot/listen_sound_libraries.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>

namespace earshot::listen {
namespace {

// ALSA and JACK are already loaded (PortAudio links them); their functions are looked up at
// run time, so Earshot needs neither's headers nor link flags, and a PortAudio built without
// JACK (or ALSA) simply skips that part. ALSA's configuration nodes and iterators are opaque
// pointers, hence void*.
class LoadedLibrary {
 public:
  explicit LoadedLibrary(const char* name) : handle_(dlopen(name, RTLD_LAZY | RTLD_NOLOAD)) {}
  ~LoadedLibrary() {
    if (handle_ != nullptr) dlclose(handle_);
  }
  LoadedLibrary(const LoadedLibrary&) = delete;
  LoadedLibrary& operator=(const LoadedLibrary&) = delete;

  // False (and `symbol` null) when the library is not loaded or lacks `name`.
  template <typename Pointer>
  bool find(const char* name, Pointer& symbol) const {
    symbol = handle_ == nullptr ? nullptr : reinterpret_cast<Pointer>(dlsym(handle_, name));
    return symbol != nullptr;
  }

 private:
  void* handle_;
};

void quiet_alsa_handler(const char*, int, const char*, int, const char*, ...) {}
void quiet_jack_handler(const char*) {}

void silence_chatter() {
  if (std::getenv("EARSHOT_ALSA_DEBUG") != nullptr) return;
  const LoadedLibrary alsa("libasound.so.2");
  int (*set_alsa_handler)(void (*)(const char*, int, const char*, int, const char*, ...));
  if (alsa.find("snd_lib_error_set_handler", set_alsa_handler)) {
    set_alsa_handler(&quiet_alsa_handler);
  }
  const LoadedLibrary jack("libjack.so.0");
  void (*set_jack_handler)(void (*)(const char*));
  if (jack.find("jack_set_error_function", set_jack_handler)) set_jack_handler(&quiet_jack_handler);
  if (jack.find("jack_set_info_function", set_jack_handler)) set_jack_handler(&quiet_jack_handler);
}

// The plugin type whose PCMs the scan skips: the AC-3 encoder, which refuses to open for
// capture ("a52 is only for playback") and links libavcodec.
constexpr const char* kEncoderPcmType = "a52";

// The part of ALSA's configuration API (alsa/conf.h) that the pruning needs.
struct AlsaConfigApi {
  int (*update)() = nullptr;  // snd_config_update: loads the global configuration
  void** global = nullptr;    // &snd_config, the global configuration tree
  int (*search)(void*, const char*, void**) = nullptr;
  void* (*first)(const void*) = nullptr;
  void* (*next)(void*) = nullptr;
  void* (*end)(const void*) = nullptr;
  void* (*entry)(void*) = nullptr;
  int (*get_string)(const void*, const char**) = nullptr;
  int (*remove)(void*) = nullptr;  // snd_config_delete

  bool find_all(const LoadedLibrary& alsa) {
    return alsa.find("snd_config_update", update) && alsa.find("snd_config", global) &&
           alsa.find("snd_config_search", search) &&
           alsa.find("snd_config_iterator_first", first) &&
           alsa.find("snd_config_iterator_next", next) &&
           alsa.find("snd_config_iterator_end", end) &&
           alsa.find("snd_config_iterator_entry", entry) &&
           alsa.find("snd_config_get_string", get_string) && alsa.find("snd_config_delete", remove);
  }
};

bool is_encoder(const AlsaConfigApi& api, void* pcm) {
  void* type_node = nullptr;
  const char* type = nullptr;
  if (api.search(pcm, "type", &type_node) < 0 || api.get_string(type_node, &type) < 0) {
    return false;  // no plain type (a bare alias, a computed type): keep it
  }
  return std::strcmp(type, kEncoderPcmType) == 0;
}

void remove_encoder_pcms() {
  const LoadedLibrary alsa("libasound.so.2");
  AlsaConfigApi api;
  // A configuration that does not load is ALSA's to report, at the scan that follows.
  if (!api.find_all(alsa) || api.update() < 0 || *api.global == nullptr) return;
  void* pcms = nullptr;
  if (api.search(*api.global, "pcm", &pcms) < 0) return;
  for (void* position = api.first(pcms); position != api.end(pcms);) {
    void* pcm = api.entry(position);
    position = api.next(position);  // before the entry it belongs to is deleted
    if (is_encoder(api, pcm)) api.remove(pcm);
  }
}

}  // namespace

void prepare_sound_libraries_for_device_scan() {
  silence_chatter();
  remove_encoder_pcms();
}

}  // namespace earshot::listen
