// Command bench measures start-ecs as it ships against the figures of
// docs/benchmarks.md and writes docs/benchmark-results.md and the plot it
// links (docs/benchmarks.svg), where docs/benchmarks.md links them:
//
//	go run ./scripts/bench                      # every figure; a few minutes
//	go run ./scripts/bench -sizes 100,1000 -cold 5 -warm 20 -out /tmp/b.md
//
// It builds the shipped binary (scripts/build.sh: its size and its zip's), and
// for this machine the function, the empty function and the floor function
// (internal/benchfn) with the same flags (internal/build); then, against the
// emulators (internal/fcemu, internal/ecsemu):
//
//   - cold start: exec → the first GET …/invocation/next, and exec → the
//     answer of a 1-instance direct invoke queued before the exec, for each
//     function in turn, -cold rounds; medians, and start-ecs over the floor;
//   - warm invocations of 1 instance (-warm of them): the round trip minus the
//     ECS emulator's own time on the calls, p50 and p99, and the TCP
//     connections they opened to ECS;
//   - for each of -sizes: one invocation naming that many stopped instances,
//     ECS answering after -latency and throttling past -rate calls a second:
//     accepted and throttled StartInstances calls, wall time against the
//     throttle-bound ideal (calls / rate), instances lost or started twice, the
//     function's peak RSS (VmHWM);
//   - -tag-size instances selected by their tag the same way: the pages of
//     DescribeInstances and the starts.
//
// Nothing here asserts a figure: the report says measured, target, ratio. The
// machines are shared and noisy: compare ratios from one run.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/start-ecs/start-ecs/internal/harness"
)

// defaultReport is where docs/ keeps the report, relative to the module
// root; its plot is docs/benchmarks.svg (defaultPlot), beside it.
const (
	defaultReport = "docs/benchmark-results.md"
	defaultPlot   = "benchmarks.svg"
)

// plotPath is where the plot of a report goes: beside it, named after it,
// but for the default report's, docs/benchmarks.svg.
func plotPath(report string) string {
	if filepath.Base(report) == filepath.Base(defaultReport) {
		return filepath.Join(filepath.Dir(report), defaultPlot)
	}
	return strings.TrimSuffix(report, filepath.Ext(report)) + ".svg"
}

func main() {
	var o options
	var sizes string
	flag.StringVar(&o.Out, "out", "", "the report to write (default docs/benchmark-results.md); the SVG goes beside it")
	flag.StringVar(&sizes, "sizes", "1000,10000,100000", "instance counts of the throttled runs, comma-separated")
	flag.Float64Var(&o.Rate, "rate", 20, "ECS emulator's flow limit, calls a second")
	flag.IntVar(&o.Burst, "burst", 0, "ECS emulator's bucket: calls it accepts at once (default one second of calls, -rate; 1 is a strict rate)")
	flag.DurationVar(&o.Latency, "latency", 50*time.Millisecond, "ECS emulator's latency on every call")
	var strict string
	flag.StringVar(&strict, "strict-sizes", "10000,100000", "instance counts of the runs against a strict rate (a bucket of 1), two of them or none (\"\")")
	flag.IntVar(&o.TagSize, "tag-size", 10000, "instances of the tag-selection run (0: none)")
	flag.IntVar(&o.SchedSize, "schedule-size", 10000, "instances carrying a schedule in the schedule-tick run, 1 in 100 due (0: none)")
	flag.IntVar(&o.Cold, "cold", 41, "cold-start rounds (each starts the three functions once)")
	flag.IntVar(&o.Warm, "warm", 600, "warm 1-instance invocations")
	flag.BoolVar(&o.NoZip, "no-zip", false, "skip scripts/build.sh (the shipped binary's and zip's sizes)")
	flag.StringVar(&o.Binary, "binary", "", "measure this start-ecs binary instead of building the tree's (to compare two versions)")
	flag.Parse()
	o.Sizes = counts("sizes", sizes)
	if strict != "" {
		if o.StrictSizes = counts("strict-sizes", strict); len(o.StrictSizes) != 2 {
			fmt.Fprintln(os.Stderr, "bench: -strict-sizes: two counts, or none")
			os.Exit(2)
		}
	}
	root, err := harness.ModuleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	o.Root = root
	if o.Out == "" {
		o.Out = filepath.Join(root, defaultReport)
	}
	o.Log = func(format string, a ...any) { fmt.Fprintf(os.Stderr, format+"\n", a...) }
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// counts reads a flag's comma-separated instance counts.
func counts(name, list string) []int {
	var out []int
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "bench: -%s: %q is not a count of instances\n", name, f)
			os.Exit(2)
		}
		out = append(out, n)
	}
	return out
}

// options are the command's flags.
type options struct {
	Root    string
	Out     string
	Sizes   []int
	TagSize int
	// SchedSize is the instances of the schedule-tick run (DESIGN §3.2).
	SchedSize int
	// StrictSizes are the runs against a strict rate (a bucket of 1).
	StrictSizes []int
	Rate        float64
	Burst       int
	Latency     time.Duration
	Cold        int
	Warm        int
	NoZip       bool
	Binary      string
	Log         func(format string, a ...any)
}

func run(ctx context.Context, o options) error {
	began := time.Now()
	env := describeMachine(began)
	if o.Burst <= 0 {
		o.Burst = max(1, int(o.Rate))
	}
	dir, err := os.MkdirTemp("", "start-ecs-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	var rep report
	rep.Machine, rep.Options = env, o
	if !o.NoZip {
		o.Log("building the package that ships (scripts/build.sh)…")
		if rep.Size, err = shippedSize(ctx, o.Root, dir); err != nil {
			return err
		}
	}
	o.Log("building start-ecs, the empty and the floor function…")
	bins, err := buildAll(ctx, o.Root, dir)
	if err != nil {
		return err
	}
	if o.Binary != "" {
		bins.StartECS = o.Binary
	}
	o.Log("cold starts: %d rounds of 3 functions…", o.Cold)
	if rep.Cold, err = coldStarts(ctx, bins, o.Cold); err != nil {
		return err
	}
	o.Log("warm invocations: %d…", o.Warm)
	if rep.Warm, err = warmRuns(ctx, bins, o.Warm); err != nil {
		return err
	}
	for _, n := range o.Sizes {
		o.Log("%d instances, %s latency, %g calls/s…", n, o.Latency, o.Rate)
		s, err := scaleRun(ctx, bins.StartECS, n, o.Rate, o.Burst, o.Latency, false)
		if err != nil {
			return fmt.Errorf("%d instances: %w", n, err)
		}
		o.Log("  %d accepted calls, %d throttled, wall %s, peak RSS %.1f MiB", s.Accepted, s.Throttled, s.Wall.Round(time.Millisecond), mib(s.PeakRSS))
		rep.Scale = append(rep.Scale, s)
	}
	if o.Burst > 1 {
		// A bucket gives every run the same head start (Burst calls at
		// once), so no client's wall grows tenfold from 10,000 to 100,000
		// instances against it; a strict rate shows how the function
		// itself scales.
		for _, n := range o.StrictSizes {
			o.Log("%d instances against a strict rate (%g calls/s, a bucket of 1)…", n, o.Rate)
			s, err := scaleRun(ctx, bins.StartECS, n, o.Rate, 1, o.Latency, false)
			if err != nil {
				return fmt.Errorf("%d instances, strict rate: %w", n, err)
			}
			o.Log("  %d accepted calls, %d throttled, wall %s, peak RSS %.1f MiB", s.Accepted, s.Throttled, s.Wall.Round(time.Millisecond), mib(s.PeakRSS))
			rep.Strict = append(rep.Strict, s)
		}
	}
	if n := o.TagSize; n > 0 {
		o.Log("%d instances selected by tag, %s latency, %g calls/s…", n, o.Latency, o.Rate)
		if rep.Tags, err = scaleRun(ctx, bins.StartECS, n, o.Rate, o.Burst, o.Latency, true); err != nil {
			return fmt.Errorf("%d instances by tag: %w", n, err)
		}
		s := rep.Tags
		o.Log("  %d pages, %d accepted calls, %d throttled, wall %s, peak RSS %.1f MiB", s.Pages, s.Accepted, s.Throttled, s.Wall.Round(time.Millisecond), mib(s.PeakRSS))
	}
	if n := o.SchedSize; n > 0 {
		o.Log("one schedule tick over %d scheduled instances, %d due, %s latency, %g calls/s…", n, n/100, o.Latency, o.Rate)
		if rep.Sched, err = scheduleRun(ctx, bins.StartECS, n, o.Rate, o.Burst, o.Latency); err != nil {
			return fmt.Errorf("a schedule tick over %d instances: %w", n, err)
		}
		s := rep.Sched
		o.Log("  %d pages, %d accepted calls, %d throttled, wall %s, peak RSS %.1f MiB", s.Pages, s.Accepted, s.Throttled, s.Wall.Round(time.Millisecond), mib(s.PeakRSS))
	}
	rep.Took = time.Since(began)
	svgPath := plotPath(o.Out)
	rep.SVG = filepath.Base(svgPath)
	if err := os.WriteFile(svgPath, []byte(plot(rep.Scale)), 0o644); err != nil { //nolint:gosec // G306: a report for people to read
		return err
	}
	if err := os.WriteFile(o.Out, []byte(rep.markdown()), 0o644); err != nil { //nolint:gosec // G306: a report for people to read
		return err
	}
	o.Log("wrote %s and %s in %s", o.Out, svgPath, rep.Took.Round(time.Second))
	return nil
}
