package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseDuration parses a Go duration extended with days ("d", 24h) and weeks ("w", 168h), e.g. "90m", "1h30m", "3d", "1w2d".
func ParseDuration(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	if !strings.ContainsAny(in, "dw") {
		d, err := time.ParseDuration(in)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		return d, nil
	}
	rest, neg := in, false
	if rest[0] == '-' || rest[0] == '+' {
		neg = rest[0] == '-'
		rest = rest[1:]
	}
	if rest == "" {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	var total time.Duration
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] == '.' || (rest[i] >= '0' && rest[i] <= '9')) {
			i++
		}
		j := i
		for j < len(rest) && rest[j] != '.' && (rest[j] < '0' || rest[j] > '9') {
			j++
		}
		num, unit := rest[:i], rest[i:j]
		if num == "" || unit == "" {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		var part time.Duration
		switch unit {
		case "d", "w":
			f, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, fmt.Errorf("invalid duration %q", s)
			}
			mult := 24 * time.Hour
			if unit == "w" {
				mult = 7 * 24 * time.Hour
			}
			v := f * float64(mult)
			if v >= math.MaxInt64 {
				return 0, fmt.Errorf("invalid duration %q: too long", s)
			}
			part = time.Duration(v)
		default:
			d, err := time.ParseDuration(num + unit)
			if err != nil {
				return 0, fmt.Errorf("invalid duration %q", s)
			}
			part = d
		}
		if total > math.MaxInt64-part {
			return 0, fmt.Errorf("invalid duration %q: too long", s)
		}
		total += part
		rest = rest[j:]
	}
	if neg {
		total = -total
	}
	return total, nil
}

// formatDuration renders d without trailing zero units: 72h, 1h30m, 30m, 1.5s.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
