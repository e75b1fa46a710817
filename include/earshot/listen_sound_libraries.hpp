// What `earshot listen` adjusts in the sound libraries below PortAudio before each
// Pa_Initialize, whose device scan would otherwise be noisy and expensive.
//
// Noise: ALSA prints a line to stderr for every card its configuration mentions but the
// machine lacks, and JACK several for a JACK server that is not running: dozens of lines that
// bury the daemon's own messages. Both are silenced unless EARSHOT_ALSA_DEBUG is set.
//
// Memory: the scan opens every PCM that ALSA's configuration defines, and opening one loads
// its plugin module with every library that module links. libasound2-plugins' "a52" (an
// AC-3 encoder for S/PDIF output) links FFmpeg's libavcodec and through it some 75 more
// libraries (video codecs, librsvg, cairo, ...): about 13 MiB resident, half the daemon's
// memory with `--device pulse` (tools/measure_listen_rss.sh), for a device that cannot
// capture. So PCMs of type a52 are removed from this process's copy of ALSA's configuration
// before the scan. The plugin refuses to open for capture ("a52 is only for playback"), so
// no input device disappears. Pa_Terminate discards that copy; the next
// scan reloads the configuration files, which is why this runs before every Pa_Initialize.
#pragma once

namespace earshot::listen {

// Call on the thread that then calls Pa_Initialize, while no other PortAudio session lives.
// Does nothing where ALSA or JACK is not loaded.
void prepare_sound_libraries_for_device_scan();

}  // namespace earshot::listen
