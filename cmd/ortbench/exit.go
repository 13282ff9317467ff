package main

import "fmt"

// exitCodeError carries the process exit code a failure should end with;
// main's exitCode finds it through its ExitCode method.
//
// Note: the brief named this type exitError, but main.go already uses that
// name for the generic exit-code constant.
type exitCodeError struct {
	code int
	err  error
}

func (e *exitCodeError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit code %d", e.code)
	}
	return e.err.Error()
}

func (e *exitCodeError) Unwrap() error { return e.err }

// ExitCode is the process exit code for this error.
func (e *exitCodeError) ExitCode() int { return e.code }
