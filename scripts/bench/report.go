package main

import (
	"fmt"
	"html"
	"math"
	"strings"
	"time"
)

// report is everything one run measured.
type report struct {
	Machine machine
	Options options
	Size    *sizes
	Cold    []*cold
	Warm    *warm
	Scale   []*scale
	Tags    *scale   // the tag-selection run
	Sched   *scale   // the schedule-tick run
	Strict  []*scale // 10,000 and 100,000 against a strict rate (a bucket of 1)
	Took    time.Duration
	SVG     string
}

func (r *report) cold(name string) *cold {
	for _, c := range r.Cold {
		if c.Name == name {
			return c
		}
	}
	return &cold{Name: name}
}

func (r *report) scaleOf(n int) *scale {
	for _, s := range r.Scale {
		if s.N == n {
			return s
		}
	}
	return nil
}

// row is one figure of the table.
type row struct {
	Figure, Measured, Target, Ratio, Verdict string
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

func notMeasured(figure, target, why string) row {
	return row{figure, "not measured: " + why, target, "–", "–"}
}

func (r *report) rows() []row {
	var out []row
	for _, section := range []func() []row{r.sizeRows, r.coldRows, r.warmRows, r.scaleRows, r.tenfoldRows, r.strictRows, r.tagRows, r.schedRows} {
		out = append(out, section()...)
	}
	return out
}

// sizeRows is the rows of the shipped binary and zip.
func (r *report) sizeRows() []row {
	var out []row
	if s := r.Size; s != nil {
		const maxBin, maxZip = 12_000_000, 4 << 20
		out = append(out, row{"shipped binary (scripts/build.sh, -tags validator_novalidatefn, stripped)",
			fmt.Sprintf("%d bytes", s.Binary), "≤ 12 MB", fmt.Sprintf("%.2f", float64(s.Binary)/maxBin), verdict(s.Binary <= maxBin)})
		out = append(out, row{"shipped zip", fmt.Sprintf("%d bytes", s.Zip), "≤ 4 MiB", fmt.Sprintf("%.2f", float64(s.Zip)/maxZip), verdict(s.Zip <= maxZip)})
	} else {
		out = append(out, notMeasured("shipped binary and zip", "≤ 12 MB, ≤ 4 MiB", "-no-zip"))
	}
	return out
}

// coldRows is the rows of the cold starts, against the floor function.
func (r *report) coldRows() []row {
	var out []row
	floor, se := r.cold("floor"), r.cold("start-ecs")
	if len(se.FirstPoll) > 0 {
		f, s := median(floor.FirstPoll), median(se.FirstPoll)
		out = append(out, row{"cold start: exec → first GET …/next (median)",
			fmt.Sprintf("%.2f ms (floor %.2f ms)", s, f), "≤ 1.05 × floor", fmt.Sprintf("%.2f", s/f), verdict(s <= 1.05*f)})
		f, s = median(floor.FirstResponse), median(se.FirstResponse)
		out = append(out, row{"cold first response: exec → answer of a 1-instance direct invoke (median)",
			fmt.Sprintf("%.2f ms (floor %.2f ms)", s, f), "≤ 1.15 × floor", fmt.Sprintf("%.2f", s/f), verdict(s <= 1.15*f)})
	}
	return out
}

// warmRows is the rows of the warm invocations.
func (r *report) warmRows() []row {
	var out []row
	if w := r.Warm; w != nil && len(w.Overhead) > 0 {
		p50, p99 := quantile(w.Overhead, 0.5), quantile(w.Overhead, 0.99)
		f50, f99 := quantile(w.FloorOverhead, 0.5), quantile(w.FloorOverhead, 0.99)
		e50 := quantile(w.EmptyRoundTrip, 0.5)
		out = append(out, row{"warm invocation overhead, 1 instance, p50 (round trip minus the ECS emulator's time)",
			fmt.Sprintf("%.3f ms (the floor function's: %.3f ms; the empty function's whole round trip: %.3f ms)", p50, f50, e50), "≤ 1 ms",
			fmt.Sprintf("%.2f (%.2f × the floor's)", p50/1, p50/f50), verdict(p50 <= 1)})
		out = append(out, row{"warm invocation overhead, 1 instance, p99", fmt.Sprintf("%.3f ms (the floor function's: %.3f ms)", p99, f99), "≤ 5 ms",
			fmt.Sprintf("%.2f (%.2f × the floor's)", p99/5, p99/f99), verdict(p99 <= 5)})
		if len(w.CPU) == 3 {
			out = append(out, row{"CPU time per warm invocation, 1 instance (the process's user + system time ÷ invocations)",
				fmt.Sprintf("%.3f ms (floor %.3f ms, empty %.3f ms)", w.CPU[0], w.CPU[1], w.CPU[2]), "–", fmt.Sprintf("%.2f × the floor's", w.CPU[0]/w.CPU[1]), "–"})
		}
		out = append(out, row{fmt.Sprintf("a warm invocation opens no new TCP connection to ECS (%d invocations)", len(w.Overhead)),
			fmt.Sprintf("%d new connections", w.NewConnections), "0", "–", verdict(w.NewConnections == 0)})
	}
	return out
}

// scaleRows is the rows of the 10,000 instances run.
func (r *report) scaleRows() []row {
	var out []row
	if s := r.scaleOf(10000); s != nil {
		out = append(out, row{fmt.Sprintf("10,000 instances, ECS latency %s, throttled at %g calls/s: accepted StartInstances calls", r.Options.Latency, s.Rate),
			fmt.Sprintf("%d (%d throttled)", s.Accepted, s.Throttled), "exactly 100", fmt.Sprintf("%.2f", float64(s.Accepted)/100), verdict(s.Accepted == 100)})
		out = append(out, row{"10,000 instances: wall time", fmt.Sprintf("%.2f s (ideal %.2f s)", s.Wall.Seconds(), s.Ideal.Seconds()),
			"≤ 1.2 × ideal", fmt.Sprintf("%.2f", s.Wall.Seconds()/s.Ideal.Seconds()), verdict(s.Wall.Seconds() <= 1.2*s.Ideal.Seconds())})
		out = append(out, row{"10,000 instances: lost or started twice", fmt.Sprintf("%d lost, %d twice", s.Lost, s.StartedTwice),
			"0", "–", verdict(s.Lost == 0 && s.StartedTwice == 0)})
		out = append(out, row{"peak RSS at 10,000 instances", fmt.Sprintf("%.1f MiB", mib(s.PeakRSS)), "≤ 48 MiB",
			fmt.Sprintf("%.2f", mib(s.PeakRSS)/48), verdict(mib(s.PeakRSS) <= 48)})
	} else {
		out = append(out, notMeasured("10,000 instances, throttled", "100 calls, ≤ 1.2 × ideal, ≤ 48 MiB", "10000 not in -sizes"))
	}
	return out
}

// tenfoldRows is the rows of the 100,000 instances run against the 10,000 one.
func (r *report) tenfoldRows() []row {
	var out []row
	if s, b := r.scaleOf(100000), r.scaleOf(10000); s != nil && b != nil {
		calls, wall := float64(s.Accepted)/float64(b.Accepted)/10, s.Wall.Seconds()/b.Wall.Seconds()/10
		rss := float64(s.PeakRSS) / float64(b.PeakRSS)
		// A perfect client against the bucket: Burst calls at once, the
		// rest at the rate, the last answered after the latency.
		perfect := func(n int) float64 {
			return float64(max(0, (n+99)/100-s.Burst))/s.Rate + r.Options.Latency.Seconds()
		}
		limit := perfect(100000) / perfect(10000) / 10
		out = append(out, row{"100,000 instances: calls ÷ (10 × the 10,000 run's)", fmt.Sprintf("%d calls (%d throttled), %d lost, %d twice", s.Accepted, s.Throttled, s.Lost, s.StartedTwice),
			"1 ± 10 %", fmt.Sprintf("%.2f", calls), verdict(math.Abs(calls-1) <= 0.1 && s.Lost == 0 && s.StartedTwice == 0)})
		out = append(out, row{fmt.Sprintf("100,000 instances: wall ÷ (10 × the 10,000 run's), bucket of %d", s.Burst),
			fmt.Sprintf("%.2f s (%.2f × its ideal); a perfect client against this bucket: %.2f", s.Wall.Seconds(), s.Wall.Seconds()/s.Ideal.Seconds(), limit),
			"1 ± 10 %", fmt.Sprintf("%.2f", wall), verdict(math.Abs(wall-1) <= 0.1)})
		out = append(out, row{"100,000 instances: peak RSS ÷ the 10,000 run's", fmt.Sprintf("%.1f MiB", mib(s.PeakRSS)), "< 10 (sub-linear)", fmt.Sprintf("%.2f", rss), verdict(rss < 10)})
	} else {
		out = append(out, notMeasured("100,000 instances", "× 10 ± 10 % of the 10,000 run; RSS sub-linear", "10000 and 100000 not both in -sizes"))
	}
	return out
}

// strictRows is the rows of the strict rate runs.
func (r *report) strictRows() []row {
	var out []row
	if len(r.Strict) == 2 {
		a, b := r.Strict[0], r.Strict[1]
		k := float64(b.N) / float64(a.N)
		wall := b.Wall.Seconds() / a.Wall.Seconds() / k
		calls := (a.N + 99) / 100
		out = append(out, row{fmt.Sprintf("strict rate (a bucket of 1): %d instances", a.N), fmt.Sprintf("%d calls (%d throttled), %.2f s (ideal %.2f s), %d lost, %d twice", a.Accepted, a.Throttled, a.Wall.Seconds(), a.Ideal.Seconds(), a.Lost, a.StartedTwice),
			fmt.Sprintf("%d calls, ≤ 1.2 × ideal", calls), fmt.Sprintf("%.2f", a.Wall.Seconds()/a.Ideal.Seconds()), verdict(a.Accepted == calls && a.Lost == 0 && a.StartedTwice == 0 && a.Wall.Seconds() <= 1.2*a.Ideal.Seconds())})
		out = append(out, row{fmt.Sprintf("strict rate: %d instances, wall ÷ (%g × the %d run's)", b.N, k, a.N), fmt.Sprintf("%d calls (%d throttled), %.2f s, %d lost, %d twice", b.Accepted, b.Throttled, b.Wall.Seconds(), b.Lost, b.StartedTwice),
			"1 ± 10 %", fmt.Sprintf("%.2f", wall), verdict(math.Abs(wall-1) <= 0.1 && b.Lost == 0 && b.StartedTwice == 0)})
	}
	return out
}

// tagRows is the rows of the tag selection.
func (r *report) tagRows() []row {
	var out []row
	if s := r.Tags; s != nil {
		pages, calls := (s.N+99)/100, (s.N+99)/100
		out = append(out, row{fmt.Sprintf("a tag selection of %d instances: DescribeInstances pages + accepted StartInstances calls", s.N),
			fmt.Sprintf("%d pages + %d calls (%d throttled), %d lost, %d twice", s.Pages, s.Accepted, s.Throttled, s.Lost, s.StartedTwice),
			fmt.Sprintf("%d + %d", pages, calls), "–", verdict(s.Pages == pages && s.Accepted == calls && s.Lost == 0 && s.StartedTwice == 0)})
		out = append(out, row{"the tag selection: wall time", fmt.Sprintf("%.2f s (ideal %.2f s: pages and calls at the rate), peak RSS %.1f MiB", s.Wall.Seconds(), s.Ideal.Seconds(), mib(s.PeakRSS)),
			"≤ 1.2 × ideal", fmt.Sprintf("%.2f", s.Wall.Seconds()/s.Ideal.Seconds()), verdict(s.Wall.Seconds() <= 1.2*s.Ideal.Seconds())})
	} else {
		out = append(out, notMeasured("a tag selection of 10,000 instances", "100 DescribeInstances pages + 100 starts, ≤ 1.2 × ideal", "-tag-size 0"))
	}
	return out
}

// schedRows is the rows of the schedule tick (DESIGN §3.2): one tick over
// N instances carrying the key, N/100 of them due.
func (r *report) schedRows() []row {
	s := r.Sched
	if s == nil {
		return []row{notMeasured("a schedule tick over 10,000 scheduled instances, 100 due", "100 pages + 1 start, ≤ 1.2 × ideal", "-schedule-size 0")}
	}
	pages, calls := (s.N+99)/100+1, (s.N/100+99)/100
	return []row{
		{fmt.Sprintf("a schedule tick over %d scheduled instances, %d due: DescribeInstances pages + accepted StartInstances calls", s.N, s.N/100),
			fmt.Sprintf("%d pages + %d calls (%d throttled), %d due not started, %d not due started", s.Pages, s.Accepted, s.Throttled, s.Lost, s.StartedTwice),
			fmt.Sprintf("≤ %d + %d", pages, calls), "–", verdict(s.Pages <= pages && s.Accepted == calls && s.Lost == 0 && s.StartedTwice == 0)},
		{"the schedule tick: wall time", fmt.Sprintf("%.2f s (ideal %.2f s: pages one after the other at the rate), peak RSS %.1f MiB", s.Wall.Seconds(), s.Ideal.Seconds(), mib(s.PeakRSS)),
			"≤ 1.2 × ideal", fmt.Sprintf("%.2f", s.Wall.Seconds()/s.Ideal.Seconds()), verdict(s.Wall.Seconds() <= 1.2*s.Ideal.Seconds())},
	}
}

func (r *report) markdown() string {
	var b strings.Builder
	m := r.Machine
	o := r.Options
	fmt.Fprintf(&b, "# Benchmarks\n\n")
	fmt.Fprintf(&b, "Written by `go run ./scripts/bench` (see docs/benchmarks.md for what each figure means). ")
	fmt.Fprintf(&b, "Ratios compare figures from this one run; the machine is shared, so absolute times are noisy.\n\n")
	fmt.Fprintf(&b, "- date: %s (the run took %s)\n", m.Date, r.Took.Round(time.Second))
	fmt.Fprintf(&b, "- machine: %s, %d cores, %s, %s; load average at the start %s\n", m.CPU, m.Cores, m.OS, m.Go, m.Load)
	fmt.Fprintf(&b, "- options: sizes %v, ECS latency %s, flow limit %g calls/s with a bucket of %d, %d cold rounds, %d warm invocations\n\n", o.Sizes, o.Latency, o.Rate, o.Burst, o.Cold, o.Warm)
	fmt.Fprintf(&b, "| figure | measured | target | ratio | |\n|---|---|---|---|---|\n")
	for _, rw := range r.rows() {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", rw.Figure, rw.Measured, rw.Target, rw.Ratio, rw.Verdict)
	}
	if len(r.Cold) > 0 {
		fmt.Fprintf(&b, "\n## Cold starts (ms, %d rounds)\n\n| function | first GET …/next: median | p10 | p90 | first response: median | p10 | p90 |\n|---|---|---|---|---|---|---|\n", o.Cold)
		for _, c := range r.Cold {
			fmt.Fprintf(&b, "| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |\n", c.Name,
				median(c.FirstPoll), quantile(c.FirstPoll, 0.1), quantile(c.FirstPoll, 0.9),
				median(c.FirstResponse), quantile(c.FirstResponse, 0.1), quantile(c.FirstResponse, 0.9))
		}
	}
	if len(r.Scale) > 0 {
		fmt.Fprintf(&b, "\n## Instances in one invocation (ECS latency %s, %g calls/s)\n\n", o.Latency, o.Rate)
		fmt.Fprintf(&b, "![calls, wall time and peak RSS against instances](%s)\n\n", r.SVG)
		fmt.Fprintf(&b, "| instances | accepted calls | throttled calls | wall | ideal | wall ÷ ideal | lost | started twice | peak RSS |\n|---|---|---|---|---|---|---|---|---|\n")
		for _, s := range r.Scale {
			fmt.Fprintf(&b, "| %d | %d | %d | %.2f s | %.2f s | %.2f | %d | %d | %.1f MiB |\n", s.N, s.Accepted, s.Throttled,
				s.Wall.Seconds(), s.Ideal.Seconds(), s.Wall.Seconds()/s.Ideal.Seconds(), s.Lost, s.StartedTwice, mib(s.PeakRSS))
		}
		for _, s := range r.Scale {
			if s.Error != "" {
				fmt.Fprintf(&b, "\n%d instances: the function returned an error: %s\n", s.N, strings.ReplaceAll(s.Error, "|", "\\|"))
			}
		}
	}
	return b.String()
}

// plot draws three panels — accepted calls, wall time, peak RSS — against
// the number of instances on a log scale.
func plot(runs []*scale) string {
	const w, h, pw, ph, left, top = 960, 300, 260, 200, 60, 40
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n", w, h, w, h)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", w, h)
	panels := []struct {
		title string
		y     func(*scale) float64
		unit  string
	}{
		{"accepted StartInstances calls", func(s *scale) float64 { return float64(s.Accepted) }, ""},
		{"wall time", func(s *scale) float64 { return s.Wall.Seconds() }, " s"},
		{"peak RSS", func(s *scale) float64 { return mib(s.PeakRSS) }, " MiB"},
	}
	minN, maxN := math.Inf(1), math.Inf(-1)
	for _, s := range runs {
		minN, maxN = math.Min(minN, float64(s.N)), math.Max(maxN, float64(s.N))
	}
	lx0, lx1 := math.Log10(minN), math.Log10(maxN)
	if len(runs) == 0 || lx1 == lx0 {
		lx0, lx1 = lx0-0.5, lx1+0.5
	}
	for i, p := range panels {
		x0 := left + i*(pw+60)
		ymax := 0.0
		for _, s := range runs {
			ymax = math.Max(ymax, p.y(s))
		}
		if ymax <= 0 {
			ymax = 1
		}
		ymax *= 1.1
		px := func(n int) float64 { return float64(x0) + (math.Log10(float64(n))-lx0)/(lx1-lx0)*pw }
		py := func(v float64) float64 { return float64(top+ph) - v/ymax*ph }
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-weight="bold">%s</text>`+"\n", x0, top-14, html.EscapeString(p.title))
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", x0, top+ph, x0+pw, top+ph)
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", x0, top, x0, top+ph)
		for t := 0; t <= 4; t++ {
			v := ymax / 1.1 * float64(t) / 4
			fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", x0-4, py(v)+4, trim(v))
			fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>`+"\n", x0+1, py(v), x0+pw, py(v))
		}
		var pts []string
		for _, s := range runs {
			x, y := px(s.N), py(p.y(s))
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="#1f77b4"/>`+"\n", x, y)
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", x, y-7, trim(p.y(s))+p.unit)
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%d</text>`+"\n", x, top+ph+14, s.N)
		}
		if len(pts) > 1 {
			fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="#1f77b4"/>`+"\n", strings.Join(pts, " "))
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">instances (log scale)</text>`+"\n", x0+pw/2, top+ph+32)
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func trim(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}
