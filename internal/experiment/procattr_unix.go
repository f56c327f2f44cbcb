//go:build unix

package experiment

import "syscall"

// ownGroup puts a child in its own process group: a Ctrl-C at the terminal
// then reaches only the runner, which passes exactly one SIGINT on (a
// second would kill the child before it saves its checkpoint).
func ownGroup() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
