// A stand-in for a PortAudio call that hangs in the sound libraries, for the daemon tests:
// preloaded into `earshot listen` (LD_PRELOAD), it makes the first call of HANGING_CALL (a
// function taking a stream, set when it is compiled: Pa_AbortStream, as closing a stream
// stuck in libpulse does, or Pa_StartStream) never return, and passes every later call to
// PortAudio. Built without sanitizers: it is loaded before their runtimes.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <portaudio.h>
#include <stdatomic.h>
#include <unistd.h>

#define NAME_OF(call) #call
#define QUOTED(call) NAME_OF(call)

PaError HANGING_CALL(PaStream* stream) {
  static atomic_int calls;
  if (atomic_fetch_add(&calls, 1) == 0) {
    for (;;)
      pause();
  }
  PaError (*next)(PaStream*) = (PaError(*)(PaStream*))dlsym(RTLD_NEXT, QUOTED(HANGING_CALL));
  return next(stream);
}
