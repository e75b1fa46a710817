// A stand-in for a stream start that hangs in the sound libraries, for the daemon tests:
// preloaded into `earshot listen` (LD_PRELOAD), it makes the first Pa_StartStream call never
// return and passes every later call to PortAudio. Built without sanitizers: it is loaded
// before their runtimes.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <portaudio.h>
#include <stdatomic.h>
#include <unistd.h>

PaError Pa_StartStream(PaStream* stream) {
  static atomic_int calls;
  if (atomic_fetch_add(&calls, 1) == 0) {
    for (;;)
      pause();
  }
  PaError (*start_stream)(PaStream*) = (PaError(*)(PaStream*))dlsym(RTLD_NEXT, "Pa_StartStream");
  return start_stream(stream);
}
