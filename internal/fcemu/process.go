package fcemu

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Build compiles the Go main package in pkgDir into the binary outPath with
// the go command on PATH. The build runs in pkgDir, so the package's own
// module (and its go.sum) decides the dependencies.
func Build(ctx context.Context, pkgDir, outPath string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", outPath, ".") //nolint:gosec // G204: the go command on paths the test gives
	cmd.Dir = pkgDir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("fcemu: go build %s: %w\n%s", pkgDir, err, out)
	}
	return nil
}

// Stream names which output of the function a Line came from.
type Stream string

// The two streams of a function process.
const (
	Stdout Stream = "stdout"
	Stderr Stream = "stderr"
)

// Line is one line the function wrote.
type Line struct {
	Stream Stream
	Text   string
	Time   time.Time
}

// JSON decodes the line as a JSON object (a slog JSON record); ok is false for
// any other line, such as the SDK's own "FC Invoke Start RequestId: …".
func (l Line) JSON() (map[string]any, bool) {
	if !strings.HasPrefix(l.Text, "{") {
		return nil, false
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(l.Text), &m); err != nil {
		return nil, false
	}
	return m, true
}

// Process is a function binary running against a Server.
type Process struct {
	server *Server
	cmd    *exec.Cmd
	// started is when the binary was executed (just before the fork).
	started time.Time
	exited  chan struct{} // closed once the process has exited and its output is read
	err     error         // exit error; read after exited is closed

	mu      sync.Mutex
	lines   []Line
	changed chan struct{} // closed and replaced whenever a line arrives
	// forget: lines are no longer kept (Forget), only handed to followers.
	forget bool

	// sendMu guards followers and serialises deliveries to them, so that a
	// follower's channel is never closed while a line is being sent to it.
	sendMu    sync.Mutex
	followers map[chan Line]context.Context
}

// StartFunction starts the function binary with FC_RUNTIME_API pointing at
// this server, and FC_FUNCTION_NAME, FC_REGION and FC_ACCOUNT_ID from the
// Config, then env on top. The binary inherits this process's environment
// except any ALIBABA_CLOUD_* variable, so that a developer's own keys never
// reach a function under test unless env names them. ctx bounds the start;
// the process lives until Stop or Server.Close.
func (s *Server) StartFunction(ctx context.Context, binaryPath string, env []string) (*Process, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var base []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ALIBABA_CLOUD_") {
			base = append(base, kv)
		}
	}
	base = append(base,
		"FC_FUNCTION_NAME="+s.cfg.FunctionName,
		"FC_REGION="+s.cfg.Region,
		"FC_ACCOUNT_ID="+s.cfg.AccountID,
	)
	// os/exec keeps the last value of a repeated name: env overrides the
	// defaults, and FC_RUNTIME_API always points here.
	base = append(base, env...)
	base = append(base, "FC_RUNTIME_API="+s.Addr())

	// Not CommandContext: ctx bounds the start, the process outlives it
	// until Stop or Server.Close.
	cmd := exec.Command(binaryPath) //nolint:noctx // see above
	cmd.Env = base
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("fcemu: %w", err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("fcemu: %w", err)
	}
	p := &Process{server: s, cmd: cmd, exited: make(chan struct{}), changed: make(chan struct{})}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("fcemu: start %s: %w", binaryPath, err)
	}
	s.mu.Lock()
	s.processes[p] = struct{}{}
	s.mu.Unlock()

	var readers sync.WaitGroup
	readers.Add(2)
	go p.collect(stdout, Stdout, &readers)
	go p.collect(stderr, Stderr, &readers)
	go func() {
		// Wait must follow the readers: it closes the pipes.
		readers.Wait()
		p.err = cmd.Wait()
		s.mu.Lock()
		delete(s.processes, p)
		s.mu.Unlock()
		close(p.exited)
	}()
	return p, nil
}

func (p *Process) collect(r io.Reader, stream Stream, wg *sync.WaitGroup) {
	defer wg.Done()
	sc := bufio.NewScanner(r)
	// slog lines carrying a whole result can be long.
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		l := Line{Stream: stream, Text: sc.Text(), Time: time.Now()}
		p.mu.Lock()
		if !p.forget {
			p.lines = append(p.lines, l)
		}
		close(p.changed)
		p.changed = make(chan struct{})
		p.mu.Unlock()
		// Followers get every line, in order; a slow one slows the reading
		// of the pipe (and so the function's writes) rather than lose lines.
		p.sendMu.Lock()
		for ch, ctx := range p.followers {
			select {
			case ch <- l:
			case <-ctx.Done():
			}
		}
		p.sendMu.Unlock()
	}
	// A line over the buffer ends the scan; drain the rest so the function
	// never blocks on a full pipe.
	_, _ = io.Copy(io.Discard, r)
}

// Follow returns a channel that receives every line the process writes from
// now on, as it comes, until ctx ends or the process exits (then the channel
// is closed). Nothing is copied or polled: a long session costs what its
// lines cost once.
func (p *Process) Follow(ctx context.Context) <-chan Line {
	ch := make(chan Line, 64)
	p.sendMu.Lock()
	if p.followers == nil {
		p.followers = make(map[chan Line]context.Context)
	}
	p.followers[ch] = ctx
	p.sendMu.Unlock()
	go func() {
		select {
		case <-ctx.Done():
		case <-p.exited:
		}
		// A delivery in progress gives up on ctx, or ends with the process.
		p.sendMu.Lock()
		delete(p.followers, ch)
		close(ch)
		p.sendMu.Unlock()
	}()
	return ch
}

// Forget drops the lines kept so far and keeps none from now on: for a
// process that runs for hours (the local runner's serve mode), whose lines
// reach a follower instead. Lines, Output, Records and WaitForLine then see
// nothing.
func (p *Process) Forget() {
	p.mu.Lock()
	p.forget = true
	p.lines = nil
	p.mu.Unlock()
}

// Lines returns a copy of the lines written so far, in arrival order (the
// order between stdout and stderr is only as good as the pipes').
func (p *Process) Lines() []Line {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Line(nil), p.lines...)
}

// Output returns the text of all lines so far, one per line, for failure
// messages.
func (p *Process) Output() string {
	var b bytes.Buffer
	for _, l := range p.Lines() {
		fmt.Fprintf(&b, "[%s] %s\n", l.Stream, l.Text)
	}
	return b.String()
}

// Records returns the JSON log records (stdout lines that are JSON objects)
// whose "requestId" is requestID; an empty requestID returns every record.
func (p *Process) Records(requestID string) []map[string]any {
	var out []map[string]any
	for _, l := range p.Lines() {
		if l.Stream != Stdout {
			continue
		}
		m, ok := l.JSON()
		if !ok {
			continue
		}
		if requestID != "" && m["requestId"] != requestID {
			continue
		}
		out = append(out, m)
	}
	return out
}

// ErrNoSuchLine is returned by WaitForLine when no line matched in time.
var ErrNoSuchLine = errors.New("fcemu: no matching line")

// WaitForLine returns the first line (already written or still to come) for
// which match is true. It gives up with ErrNoSuchLine after timeout, or once
// the process has exited without writing one.
func (p *Process) WaitForLine(timeout time.Duration, match func(Line) bool) (Line, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	seen := 0
	for {
		p.mu.Lock()
		lines := p.lines[seen:]
		changed := p.changed
		p.mu.Unlock()
		for _, l := range lines {
			if match(l) {
				return l, nil
			}
		}
		seen += len(lines)
		select {
		case <-changed:
		case <-timer.C:
			return Line{}, fmt.Errorf("%w within %s", ErrNoSuchLine, timeout)
		case <-p.exited:
			// One last look: lines may have landed just before the exit.
			if l, ok := p.lastMatch(seen, match); ok {
				return l, nil
			}
			return Line{}, fmt.Errorf("%w: the process exited (%w)", ErrNoSuchLine, p.err)
		}
	}
}

func (p *Process) lastMatch(from int, match func(Line) bool) (Line, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.lines[from:] {
		if match(l) {
			return l, true
		}
	}
	return Line{}, false
}

// Started is when the binary was executed (taken just before the fork).
func (p *Process) Started() time.Time { return p.started }

// PeakRSS is the most resident memory the process has used so far (VmHWM in
// /proc/<pid>/status while it runs; the rusage of the child once it has
// exited), in bytes. Linux only.
func (p *Process) PeakRSS() (int64, error) {
	select {
	case <-p.exited:
		if ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			return ru.Maxrss * 1024, nil // kilobytes on Linux
		}
		return 0, errors.New("fcemu: no rusage for the process")
	default:
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("fcemu: peak RSS: %w", err)
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("fcemu: peak RSS: %q: %w", line, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, errors.New("fcemu: peak RSS: no VmHWM in /proc/<pid>/status")
}

// CPUTime is the CPU time (user and system) the running process has used
// so far, from /proc/<pid>/stat. Linux only.
func (p *Process) CPUTime() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.Pid()))
	if err != nil {
		return 0, fmt.Errorf("fcemu: CPU time: %w", err)
	}
	// The command name, field 2, is in parentheses and may hold spaces:
	// the fields after it are counted from its closing parenthesis.
	end := strings.LastIndexByte(string(b), ')')
	if end < 0 {
		return 0, errors.New("fcemu: CPU time: no command name in /proc/<pid>/stat")
	}
	f := strings.Fields(string(b[end+1:]))
	if len(f) < 13 {
		return 0, errors.New("fcemu: CPU time: short /proc/<pid>/stat")
	}
	var ticks int64
	for _, x := range f[11:13] { // utime and stime, fields 14 and 15
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("fcemu: CPU time: %q: %w", x, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// clockTicks is the kernel's USER_HZ, the unit of /proc's CPU times: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// Exited is closed once the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Pid is the function process's ID (for a test that reads /proc of it), 0
// before it started.
func (p *Process) Pid() int {
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Stop ends the process: an interrupt first, a kill if it has not exited a
// second later. It returns once the process has exited and its output is
// read; ExitErr tells how it ended.
func (p *Process) Stop() error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.exited:
	case <-time.After(time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	return nil
}

// ExitErr is the process's exit error once it has exited (nil while running).
func (p *Process) ExitErr() error {
	select {
	case <-p.exited:
		return p.err
	default:
		return nil
	}
}
