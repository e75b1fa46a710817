# shellcheck shell=bash
# A seeded PRNG for the synth/ scripts: a 31-bit linear congruential generator in bash
# arithmetic, so a seed gives the same choices on every machine and bash version (bash's
# own $RANDOM is not specified to stay the same). Source it, then:
#   rng_seed 42; rand_below 10; echo "$REPLY"      # uniform in [0, 10)
#   rand_between -3 3; echo "$REPLY"               # uniform in [-3, 3]
rng_state=1
rng_seed() { rng_state=$((($1 * 2654435761 + 12345) & 0x7fffffff)); }
rand_below() {
  rng_state=$(((rng_state * 1103515245 + 12345) & 0x7fffffff))
  REPLY=$(((rng_state >> 8) % $1))
}
rand_between() {
  rand_below $(($2 - $1 + 1))
  REPLY=$(($1 + REPLY))
}
