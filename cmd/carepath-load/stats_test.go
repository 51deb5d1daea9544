package main

import (
	"testing"
	"time"
)

func TestSummarizeCountsErrorsAndPercentiles(t *testing.T) {
	var ss []sample
	for i := 1; i <= 1000; i++ {
		s := sample{kind: "a", d: time.Duration(i) * time.Millisecond, status: 200}
		if i%100 == 0 {
			s.kind, s.status, s.err = "b", 412, true
		}
		ss = append(ss, s)
	}
	ss = append(ss, sample{kind: "b", d: time.Millisecond, status: 0, err: true})
	r := summarize(config{scenario: "events", conns: 2}, ss, 10*time.Second)
	if r.Requests != 1001 || r.Errors != 11 || r.ErrorsByStatus["412"] != 10 || r.ErrorsByStatus["transport"] != 1 {
		t.Fatalf("requests %d errors %d by status %v", r.Requests, r.Errors, r.ErrorsByStatus)
	}
	if r.Throughput != 100.1 {
		t.Errorf("throughput %v, want 100.1", r.Throughput)
	}
	// 1001 samples: the 50th percentile is the 501st smallest (500 ms: one extra 1 ms sample).
	if r.Latency.P50 != 500 || r.Latency.P99 != 990 || r.Latency.Max != 1000 {
		t.Errorf("p50 %v p99 %v max %v", r.Latency.P50, r.Latency.P99, r.Latency.Max)
	}
	if a, b := r.ByKind["a"], r.ByKind["b"]; a.Requests != 990 || b.Requests != 11 || b.Errors != 11 || a.Errors != 0 {
		t.Errorf("by kind: %+v %+v", a, b)
	}
}
