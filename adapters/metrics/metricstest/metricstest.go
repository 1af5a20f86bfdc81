// Package metricstest reads a /metrics answer the way Prometheus does, for
// tests: the text parser of prometheus/common, and the value of a series.
package metricstest

import (
	"io"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Families are the metric families of one scrape, by name.
type Families map[string]*dto.MetricFamily

// Parse reads the text format with the Prometheus text parser, requiring
// classic metric and label names; a text that does not parse fails the test.
func Parse(t testing.TB, r io.Reader) Families {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	return fams
}

// Value sums the series of name whose labels include labels (name, value
// pairs): a counter's or gauge's value, a histogram's count of samples.
// No such series is 0.
func (f Families) Value(name string, labels ...string) float64 {
	total := 0.0
	for _, m := range f.Series(name, labels...) {
		total += ValueOf(m)
	}
	return total
}

// ValueOf is one series' value: a counter's or gauge's, a histogram's count
// of samples.
func ValueOf(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return 0
}

// Series lists the series of name whose labels include labels (pairs).
func (f Families) Series(name string, labels ...string) []*dto.Metric {
	var out []*dto.Metric
	for _, m := range f[name].GetMetric() {
		if hasLabels(m, labels) {
			out = append(out, m)
		}
	}
	return out
}

func hasLabels(m *dto.Metric, pairs []string) bool {
	for i := 0; i+1 < len(pairs); i += 2 {
		found := false
		for _, l := range m.GetLabel() {
			found = found || (l.GetName() == pairs[i] && l.GetValue() == pairs[i+1])
		}
		if !found {
			return false
		}
	}
	return true
}
