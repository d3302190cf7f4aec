// Command timerpayloads writes the payload of every timer trigger of a
// Serverless Devs file (s.yaml by default) to DIR/<triggerName>.json, so that a
// CI job can send each through the local runner, which exits 2 on an operator
// mistake (a typo such as instanceID, DESIGN §9) and 1 on an invocation error:
//
//	dir=$(mktemp -d)
//	go run ./scripts/timerpayloads -out "$dir" s.yaml
//	go run ./scripts/local "$dir"/*.json
//
// Each file holds the payload as the trigger sends it, so the runner invokes
// it directly: a typo or any other defect is the same mistake there, while a
// tag selection that finds nothing in the emulator's fleet (not yours) is not
// one. The payloads are YAML anchors (s.yaml says why), which yaml.v3 resolves.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

func main() {
	out := flag.String("out", ".", "the directory the payload files are written to")
	flag.Parse()
	file := "s.yaml"
	if flag.NArg() > 0 {
		file = flag.Arg(0)
	}
	names, err := write(file, *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "timerpayloads:", err)
		os.Exit(1)
	}
	for _, n := range names {
		fmt.Println(n)
	}
}

// deployFile is the part of a Serverless Devs file that holds the timers.
type deployFile struct {
	Resources map[string]struct {
		Props struct {
			Triggers []struct {
				TriggerName   string `yaml:"triggerName"`
				TriggerType   string `yaml:"triggerType"`
				TriggerConfig struct {
					Payload string `yaml:"payload"`
				} `yaml:"triggerConfig"`
			} `yaml:"triggers"`
		} `yaml:"props"`
	} `yaml:"resources"`
}

// write writes each timer's payload of file into dir and returns the paths;
// a timer without a payload is written too (empty), for the runner to refuse.
func write(file, dir string) ([]string, error) {
	raw, err := os.ReadFile(file) //nolint:gosec // G304: the file the user names is the job
	if err != nil {
		return nil, err
	}
	var doc deployFile
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var paths []string
	seen := map[string]bool{}
	for _, res := range doc.Resources {
		for _, tr := range res.Props.Triggers {
			if tr.TriggerType != "timer" || seen[tr.TriggerName] {
				continue
			}
			seen[tr.TriggerName] = true
			p := filepath.Join(dir, tr.TriggerName+".json")
			if err := os.WriteFile(p, []byte(tr.TriggerConfig.Payload), 0o600); err != nil {
				return nil, err
			}
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		return nil, errors.New(file + " has no timer trigger")
	}
	return paths, nil
}
