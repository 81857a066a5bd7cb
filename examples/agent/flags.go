package main

import (
	"fmt"
	"strconv"
	"strings"
)

// listFlag is a flag that may be given several times; each value is kept.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, " ") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// sizeFlag is a byte count with an optional binary suffix: 512, 64K, 4G;
// -1 means no limit.
type sizeFlag int64

// String returns s with the largest suffix that keeps it exact: 4G.
func (s *sizeFlag) String() string {
	n := int64(*s)
	for _, u := range []string{"T", "G", "M", "K"} {
		shift := 10 * (strings.Index("KMGT", u) + 1)
		if n > 0 && n%(1<<shift) == 0 {
			return strconv.FormatInt(n>>shift, 10) + u
		}
	}
	return strconv.FormatInt(n, 10)
}

func (s *sizeFlag) Set(v string) error {
	n, err := parseSize(v)
	if err != nil {
		return err
	}
	*s = sizeFlag(n)
	return nil
}

// parseSize parses a byte count: digits, then optionally K, M, G or T
// (powers of 1024, either case), or -1. It is a pure function.
func parseSize(v string) (int64, error) {
	if v == "-1" {
		return -1, nil
	}
	num, shift := v, 0
	if n := len(v); n > 0 {
		if i := strings.IndexByte("KMGT", v[n-1]&^0x20); i >= 0 && v[n-1] >= 'A' {
			num, shift = v[:n-1], 10*(i+1)
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<63-1)>>shift {
		return 0, fmt.Errorf("size %q: want a positive number with an optional K, M, G or T, or -1", v)
	}
	return n << shift, nil
}
