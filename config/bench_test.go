package config

import (
	"fmt"
	"strings"
	"testing"
)

// manyServices is a configuration of n [[services]] entries (100,000 of
// them are about 8 MB).
func manyServices(n int) []byte {
	var b strings.Builder
	b.WriteString("[redis]\nurl = \"memory://\"\n[[people]]\nname = \"alice\"\nids = [\"slack:U012AB3CD\"]\n")
	for i := range n {
		fmt.Fprintf(&b, "[[services]]\nname = \"svc%d\"\nowners = [\"alice\"]\nchannels = [\"slack:C0123456\"]\n", i)
	}
	return []byte(b.String())
}

// BenchmarkCheckManyServices is check-config's work on a large file: load,
// validate, order the problems. Its time grows with the file, linearly
// (see docs/benchmarks.md).
func BenchmarkCheckManyServices(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		data := manyServices(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				cfg, problems, err := LoadBytes(data, nil)
				if err != nil || len(problems) > 0 {
					b.Fatal(err, problems)
				}
				if ps := cfg.InFileOrder(cfg.Validate()); len(ps) > 0 {
					b.Fatal(ps)
				}
			}
		})
	}
}
