package harness

import (
	"math"
	"testing"
)

func TestTableMarkdown(t *testing.T) {
	tb := Table{Header: []string{"size", "server", "msgs/s"}, Labels: 2}
	tb.AddRow("64 B", "uringnet", "123456")
	tb.AddRow("16 KiB", "a|b") // short row, pipe escaped
	want := "" +
		"| size   | server   | msgs/s |\n" +
		"| ------ | -------- | -----: |\n" +
		"| 64 B   | uringnet | 123456 |\n" +
		"| 16 KiB | a\\|b     |        |\n"
	if got := tb.Markdown(); got != want {
		t.Errorf("Markdown:\n%s\nwant:\n%s", got, want)
	}
	one := Table{Header: []string{"x", "µs"}}
	one.AddRow("a", "1", "dropped")
	want = "" +
		"| x   |  µs |\n" +
		"| --- | --: |\n" +
		"| a   |   1 |\n"
	if got := one.Markdown(); got != want {
		t.Errorf("Markdown:\n%s\nwant:\n%s", got, want)
	}
}

func TestNumRatio(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{Num(1.25, 1), "1.2"},
		{Num(1234.5, 0), "1234"},
		{Num(math.NaN(), 2), NA},
		{Num(math.Inf(1), 2), NA},
		{Ratio(3, 2), "1.50x"},
		{Ratio(1, 3), "0.33x"},
		{Ratio(0, 2), NA},
		{Ratio(2, 0), NA},
		{Ratio(math.NaN(), 2), NA},
		{Ratio(2, math.Inf(1)), NA},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("case %d: got %q, want %q", i, tt.got, tt.want)
		}
	}
}
