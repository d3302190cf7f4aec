// Package build is the one place that says how the start-ecs function is
// built: the flags that ship. scripts/build.sh (through scripts/buildfn), the
// local runner, the end-to-end tests and the benchmarks all build through it,
// so that what is tested and measured is what is deployed. The empty and the
// floor functions of the benchmarks (internal/benchfn) are built by Package
// with the same flags.
package build

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Tags are the build tags of every build that ships or is measured.
// validator_novalidatefn drops the validator's validateFn rule, whose
// reflect.Value.MethodByName turns off the linker's dead-code elimination
// for the whole program: with it, every method of the ECS SDK's client is
// linked and the binary nearly triples (DESIGN §2).
const Tags = "validator_novalidatefn"

// LDFlags strip the symbol table and DWARF (-s -w) and leave out the build
// ID, so that two builds of one tree give the same bytes.
const LDFlags = "-s -w -buildid="

// Options choose among the builds of the function.
type Options struct {
	// ForFC cross-compiles for Function Compute's go1 runtime (linux/amd64).
	// Otherwise the binary is for the machine that builds it.
	ForFC bool
	// Race adds the race detector, for tests only: it needs cgo, so the
	// binary is not static, and it is several times larger and slower.
	Race bool
}

// Args are the arguments of `go build` for o, before "-o <out> <package>".
func Args(o Options) []string {
	args := []string{"build", "-tags", Tags, "-trimpath", "-buildvcs=false", "-ldflags", LDFlags}
	if o.Race {
		args = append(args, "-race")
	}
	return args
}

// Env is the environment of the `go build` for o, on top of the caller's.
func Env(o Options) []string {
	env := []string{"CGO_ENABLED=0"}
	if o.Race {
		env = []string{"CGO_ENABLED=1"}
	}
	if o.ForFC {
		env = append(env, "GOOS=linux", "GOARCH=amd64")
	}
	return env
}

// Function builds the main package in root (the module root) into out.
func Function(ctx context.Context, root, out string, o Options) error {
	return Package(ctx, root, ".", out, o)
}

// Package builds the main package pkg (a path relative to root, like
// "./internal/benchfn/floor") into out with the same flags as Function, so
// that the functions the benchmarks compare with are built the way the one
// that ships is.
func Package(ctx context.Context, root, pkg, out string, o Options) error {
	args := append(Args(o), "-o", out, pkg)
	cmd := exec.CommandContext(ctx, "go", args...) //nolint:gosec // G204: the go command with this package's own flags
	cmd.Dir = root
	cmd.Env = append(os.Environ(), Env(o)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build: %s go %s: %w\n%s", strings.Join(Env(o), " "), strings.Join(args, " "), err, b)
	}
	return nil
}
