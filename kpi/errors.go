package kpi

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"syscall"
)

// Class is the kind of an error, as decided by Classify. Counters keep one
// counter per class in a fixed array, so counting an error takes no lock.
type Class uint8

// The error classes. ClassOther is the zero value.
const (
	ClassOther      Class = iota // anything not listed below
	ClassIO                      // EIO: the storage failed
	ClassPermission              // EACCES, EPERM
	ClassNoSpace                 // ENOSPC, EDQUOT: the destination is full
	ClassTransient               // ESTALE, ETIMEDOUT, EAGAIN, EINTR: NFS hiccups worth a retry
	ClassVanished                // ENOENT: the entry went away during the run; not an error
	ClassCanceled                // context.Canceled, context.DeadlineExceeded
	numClasses
)

var classNames = [numClasses]string{
	ClassOther:      "other",
	ClassIO:         "io",
	ClassPermission: "permission",
	ClassNoSpace:    "nospace",
	ClassTransient:  "transient",
	ClassVanished:   "vanished",
	ClassCanceled:   "canceled",
}

// String returns the class name used in JSON, text and Prometheus labels,
// such as "io" or "nospace".
func (c Class) String() string {
	if c >= numClasses {
		return fmt.Sprintf("Class(%d)", uint8(c))
	}
	return classNames[c]
}

// MarshalText encodes c as its name.
func (c Class) MarshalText() ([]byte, error) {
	if c >= numClasses {
		return nil, fmt.Errorf("marshal class: unknown class %d", uint8(c))
	}
	return []byte(classNames[c]), nil
}

// UnmarshalText decodes a name written by MarshalText.
func (c *Class) UnmarshalText(b []byte) error {
	for i, name := range classNames {
		if string(b) == name {
			*c = Class(i)
			return nil
		}
	}
	return fmt.Errorf("unmarshal class: unknown class %q", b)
}

// classErrnos lists, in the order Classify checks them, the targets that put
// an error in each class. Canceled comes first so that a cancelled copy is
// never booked as an I/O error; vanished comes before permission because
// both may wrap one *PathError and ENOENT says more.
var classErrnos = []struct {
	class   Class
	targets []error
}{
	{ClassCanceled, []error{context.Canceled, context.DeadlineExceeded}},
	{ClassVanished, []error{fs.ErrNotExist}}, // syscall.ENOENT matches it
	{ClassPermission, []error{fs.ErrPermission}},
	{ClassNoSpace, []error{syscall.ENOSPC, syscall.EDQUOT}},
	{ClassIO, []error{syscall.EIO}},
	{ClassTransient, []error{syscall.ESTALE, syscall.ETIMEDOUT, syscall.EAGAIN, syscall.EINTR}},
}

// Classify returns the class of err, looking through wrappers such as
// *fs.PathError with errors.Is. It is a pure function, safe for concurrent
// use. Classify(nil) returns ClassOther: callers check for nil first.
//
// fs.ErrNotExist and fs.ErrPermission stand for ENOENT and EACCES/EPERM, as
// syscall.Errno.Is maps them, so errors from io/fs implementations that
// are not backed by syscalls are classified too.
func Classify(err error) Class {
	if err == nil {
		return ClassOther
	}
	for _, ce := range classErrnos {
		for _, target := range ce.targets {
			if errors.Is(err, target) {
				return ce.class
			}
		}
	}
	return ClassOther
}

// ErrorRecord is one error kept in a Report: the path it happened on, its
// class and its message.
type ErrorRecord struct {
	Path    string `json:"path"`
	Class   Class  `json:"class"`
	Message string `json:"message"`
}

// ErrorCounts holds the number of errors of each class. Vanished entries
// are not errors and are counted in Report.Vanished instead.
type ErrorCounts struct {
	IO         int64 `json:"io"`
	Permission int64 `json:"permission"`
	NoSpace    int64 `json:"nospace"`
	Transient  int64 `json:"transient"`
	Canceled   int64 `json:"canceled"`
	Other      int64 `json:"other"`
}

// Total returns the number of errors of all classes.
func (e ErrorCounts) Total() int64 {
	return e.IO + e.Permission + e.NoSpace + e.Transient + e.Canceled + e.Other
}

// each calls fn for every error class in a fixed order, ClassVanished
// excluded.
func (e ErrorCounts) each(fn func(c Class, n int64)) {
	fn(ClassIO, e.IO)
	fn(ClassPermission, e.Permission)
	fn(ClassNoSpace, e.NoSpace)
	fn(ClassTransient, e.Transient)
	fn(ClassCanceled, e.Canceled)
	fn(ClassOther, e.Other)
}

// ErrorSummary is the error part of a Report: counts by class, their total,
// and the first errors with their paths, up to Options.MaxErrors.
type ErrorSummary struct {
	Total   int64         `json:"total"`
	ByClass ErrorCounts   `json:"by_class"`
	First   []ErrorRecord `json:"first"`
}
