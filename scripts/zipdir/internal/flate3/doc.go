// Package flate3 is the standard library's DEFLATE compressor emitting
// 3-byte matches, as zlib does (gen.go writes it from the Go that builds;
// `go generate ./scripts/zipdir/...`): the shipped zip is about 2 % smaller
// than compress/flate's best level makes it, and as reproducible.
package flate3

//go:generate go run gen.go
