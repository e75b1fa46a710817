# shellcheck shell=bash
# Which of the real recordings that synth/gather_real_material.sh gathers are held out from
# training, so that every model is measured on speakers and rooms it never heard. The one list
# for tools/make_model.sh and tools/make_activate_data.sh; models/README.md names the same sets.
# Source it, then:
#   is_heldout_speech speech_commands_stop && echo "held out"
#   is_heldout_noise noise_speech_commands && echo "held out"

# Speech: speech_commands' "unknown" words and "stop", mycroft's not-wake-words and another
# wake phrase ("hey chatterbox").
is_heldout_speech() {
  case $1 in
    speech_commands__unknown_ | speech_commands_stop | mycroft_not_wake_words_en | mycroft_hey_chatterbox)
      return 0 ;;
    *) return 1 ;;
  esac
}

# Noise: the speech_commands family (dishes, exercise bike, running tap, cat, white and pink noise).
is_heldout_noise() { [[ $1 == noise_speech_commands ]]; }
