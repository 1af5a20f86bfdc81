//go:build !race

package slack

// raceEnabled: the race detector changes what allocates (sync.Pool drops
// some of what it is given, at random).
const raceEnabled = false
