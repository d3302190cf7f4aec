// Command empty is the empty Function Compute function of the benchmarks: the
// fc-runtime-go-sdk loop and a handler that answers "{}" (see package benchfn).
package main

import (
	"context"
	"encoding/json"

	"github.com/aliyun/fc-runtime-go-sdk/fc"
)

func main() {
	fc.Start(func(context.Context, json.RawMessage) (string, error) { return "{}", nil })
}
