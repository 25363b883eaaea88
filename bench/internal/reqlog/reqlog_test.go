package reqlog

import (
	"path/filepath"
	"slices"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "records")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []Record{{Start: 1764588000123456789, Latency: 250000, Lag: 0}, {Start: 2, Latency: -1, Lag: 1 << 40, Dialed: true}}
	for _, r := range want {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("Read = %v, %v; want %v", got, err, want)
	}
}
