// A stand-in for the sound libraries' deadlock on a dying sound server, for the daemon
// tests: preloaded into `earshot listen` (LD_PRELOAD), it makes the first Pa_AbortStream
// call never return, as closing a stream stuck in libpulse does, and passes every later
// call to PortAudio. Built without sanitizers: it is loaded before their runtimes.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <portaudio.h>
#include <stdatomic.h>
#include <unistd.h>

PaError Pa_AbortStream(PaStream* stream) {
  static atomic_int calls;
  if (atomic_fetch_add(&calls, 1) == 0) {
    for (;;)
      pause();
  }
  PaError (*abort_stream)(PaStream*) = (PaError(*)(PaStream*))dlsym(RTLD_NEXT, "Pa_AbortStream");
  return abort_stream(stream);
}
