//go:build race

package stdhttp_test

// raceEnabled says the tests run under the race detector, where a case
// with a known data race in the adapter (diffCase.race) is skipped.
const raceEnabled = true
