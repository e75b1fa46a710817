// A stand-in for a PortAudio call that goes wrong in the sound libraries, for the daemon
// tests: preloaded into `earshot listen` (LD_PRELOAD), it breaks the first call of
// BROKEN_CALL (a function taking a stream, set when it is compiled: Pa_AbortStream, as
// closing a stream stuck in libpulse does, or Pa_StartStream) and passes every later call to
// PortAudio. The first call never returns, or, built with FIRST_CALL_FAILS, returns
// paInternalError at once. A call that hangs first creates the file named by the
// environment variable EARSHOT_HUNG_MARK, if set, so that a test can act once the hang has
// begun rather than after a guessed delay. Built without sanitizers: it is loaded before
// their runtimes.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <portaudio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#define NAME_OF(call) #call
#define QUOTED(call) NAME_OF(call)

PaError BROKEN_CALL(PaStream* stream) {
  static atomic_int calls;
  if (atomic_fetch_add(&calls, 1) == 0) {
#ifdef FIRST_CALL_FAILS
    return paInternalError;
#else
    const char* mark = getenv("EARSHOT_HUNG_MARK");
    if (mark != NULL) close(open(mark, O_CREAT | O_WRONLY, 0644));
    for (;;)
      pause();
#endif
  }
  PaError (*next)(PaStream*) = (PaError(*)(PaStream*))dlsym(RTLD_NEXT, QUOTED(BROKEN_CALL));
  return next(stream);
}
