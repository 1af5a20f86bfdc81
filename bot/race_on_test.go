//go:build race

package bot_test

// raceEnabled: the race detector changes what allocates.
const raceEnabled = true
