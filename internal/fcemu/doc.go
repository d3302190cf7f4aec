// Package fcemu emulates the parts of Alibaba Cloud Function Compute 3.0 that a
// function built with github.com/aliyun/fc-runtime-go-sdk (runtime go1) talks to,
// so that the real function binary can be run and tested on a workstation.
//
// It has three parts:
//
//   - Server: the runtime API (FC_RUNTIME_API) on 127.0.0.1. The function
//     long-polls GET /2020-11-11/runtime/invocation/next and posts each result
//     to …/invocation/{id}/response or …/invocation/{id}/error. Server.Invoke
//     queues one invocation and blocks until its result is posted, as a
//     synchronous InvokeFunction call does.
//   - Process: builds a Go main package (Build) and runs it against a Server
//     (Server.StartFunction), keeping its stdout and stderr lines so that tests
//     can read the JSON log lines the function writes for FC's log store.
//   - Gateway: an http.Handler that plays an FC 3.0 HTTP trigger. It turns a
//     real HTTP request into the trigger's event JSON, invokes the function and
//     turns the function's answer back into an HTTP response; requests with
//     X-Fc-Invocation-Type: Async are answered 202 and run in the background.
//
// Where the platform's behaviour is documented, the emulator follows it; where
// it is not, the choice is named in the doc comment of the option that controls
// it, so that a test never silently depends on a guess.
package fcemu
