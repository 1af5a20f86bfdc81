package config

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "90m", want: 90 * time.Minute},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "24h", want: 24 * time.Hour},
		{in: "3d", want: 72 * time.Hour},
		{in: "1w", want: 168 * time.Hour},
		{in: "1w2d3h", want: (7+2)*24*time.Hour + 3*time.Hour},
		{in: "1.5d", want: 36 * time.Hour},
		{in: " 2d ", want: 48 * time.Hour},
		{in: "-1d", want: -24 * time.Hour},
		{in: "2d500ms", want: 48*time.Hour + 500*time.Millisecond},
		{in: "0", want: 0},
		{in: "", wantErr: true},
		{in: "d", wantErr: true},
		{in: "3", wantErr: true},
		{in: "3days", wantErr: true},
		{in: "24 hours", wantErr: true},
		{in: "1x", wantErr: true},
		{in: "-", wantErr: true},
		{in: "100000000w", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseDuration(%q) = %v, want error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		72 * time.Hour:          "72h",
		90 * time.Minute:        "1h30m",
		30 * time.Minute:        "30m",
		1500 * time.Millisecond: "1.5s",
		time.Hour + time.Second: "1h0m1s",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
