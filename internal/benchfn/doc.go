// Package benchfn holds the functions that start-ecs's cold start is measured
// against (scripts/bench, docs/benchmarks.md), each a main package of its own
// that the deployed binary does not link:
//
//   - empty: an fc-runtime-go-sdk function that answers every invocation with
//     "{}" and does nothing else;
//   - floor: the least any function on the three pinned libraries can do —
//     the empty function plus a validator with one custom rule and an ECS SDK
//     client made at start-up; an invocation decodes {"instanceIds":[…]},
//     validates it and calls StartInstances once with the invocation's
//     credentials.
//
// They are built with the flags that ship (internal/build.Package).
package benchfn
