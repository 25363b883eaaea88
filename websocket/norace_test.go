//go:build !race

package websocket

// raceEnabled tells tests that measure memory that the race detector's
// shadow memory counts too.
const raceEnabled = false
