// Command buildfn builds the start-ecs function with the flags that ship
// (internal/build): what scripts/build.sh zips.
//
//	go run ./scripts/buildfn -o dist/stage/main          # linux/amd64, for FC
//	go run ./scripts/buildfn -o /tmp/start-ecs -host     # for this machine
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/start-ecs/start-ecs/internal/build"
)

func main() {
	out := flag.String("o", "", "the binary to write")
	host := flag.Bool("host", false, "build for this machine instead of FC's linux/amd64")
	root := flag.String("C", ".", "the module root")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: buildfn -o <binary> [-host] [-C <module root>]")
		os.Exit(2)
	}
	if err := build.Function(context.Background(), *root, *out, build.Options{ForFC: !*host}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
