//go:build !unix

package experiment

import "syscall"

func ownGroup() *syscall.SysProcAttr { return nil }
