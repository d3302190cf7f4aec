package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/start-ecs/start-ecs/internal/harness"
)

// A smoke run of the benchmark command on tiny sizes: it builds the three
// functions, measures every figure and writes a well-formed report and plot.
// No figure is asserted: the machine is shared.
func TestBenchWritesTheReport(t *testing.T) {
	root, err := harness.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), filepath.Base(defaultReport))
	o := options{Root: root, Out: out, Sizes: []int{5, 150}, Rate: 1000, Latency: time.Millisecond, TagSize: 150, SchedSize: 300, StrictSizes: []int{20, 200}, Cold: 1, Warm: 2, NoZip: true, Log: t.Logf}
	if err := run(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	report := string(md)
	for _, want := range []string{"- date: ", "- machine: ", "| figure | measured | target | ratio |",
		"cold start: exec → first GET …/next", "cold first response", "warm invocation overhead", "the floor function's:", "CPU time per warm invocation", "opens no new TCP connection",
		"| empty |", "| floor |", "| start-ecs |", "| 5 | 1 |", "| 150 | 2 |", "a tag selection of 150 instances", "a schedule tick over 300 scheduled instances, 3 due", "3 pages + 1 calls (0 throttled), 0 due not started, 0 not due started", "strict rate (a bucket of 1): 20 instances", "strict rate: 200 instances", "](benchmarks.svg)"} {
		if !strings.Contains(report, want) {
			t.Errorf("the report lacks %q:\n%s", want, report)
		}
	}
	for _, line := range strings.Split(report, "\n") {
		if strings.HasPrefix(line, "| ") && strings.Count(line, "|") < 6 {
			t.Errorf("a table row with too few cells: %s", line)
		}
	}
	svg, err := os.ReadFile(plotPath(out))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		XMLName   xml.Name `xml:"svg"`
		Polylines []struct {
			Points string `xml:"points,attr"`
		} `xml:"polyline"`
	}
	if err := xml.Unmarshal(svg, &doc); err != nil {
		t.Fatalf("the plot is not well-formed SVG: %v", err)
	}
	if len(doc.Polylines) != 3 {
		t.Fatalf("%d lines drawn, want 3 (calls, wall time, peak RSS)", len(doc.Polylines))
	}
}

// The bench writes its report and plot where docs/ keeps them, so that a run
// refreshes the files docs/benchmarks.md links, not copies at the root.
func TestReportGoesWhereDocsKeepsIt(t *testing.T) {
	root, err := harness.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(root, defaultReport)
	plot := plotPath(report)
	if filepath.Dir(report) != filepath.Join(root, "docs") || filepath.Dir(plot) != filepath.Dir(report) {
		t.Errorf("report %s and plot %s: want both in docs/", report, plot)
	}
	for _, p := range []string{report, plot} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("the bench writes %s, which the repository does not keep: %v", p, err)
		}
	}
	md, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "]("+filepath.Base(plot)+")") {
		t.Errorf("%s does not show %s", defaultReport, filepath.Base(plot))
	}
	docs, err := os.ReadFile(filepath.Join(root, "docs", "benchmarks.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(docs), "("+filepath.Base(report)+")") {
		t.Errorf("docs/benchmarks.md does not link %s", filepath.Base(report))
	}
	for _, old := range []string{"BENCHMARKS.md", "benchmarks.svg"} {
		if _, err := os.Stat(filepath.Join(root, old)); err == nil {
			t.Errorf("%s is still at the module root", old)
		}
	}
}
