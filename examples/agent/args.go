package main

import (
	"fmt"
	"strings"
)

// positional checks the positional arguments of agent cmd: atLeast
// to len(names) of them (names says what they are, for the
// error), and no flag after the first, where the flag package would have
// taken it for an argument.
func positional(cmd string, args []string, atLeast int, names ...string) ([]string, error) {
	for _, a := range args[min(1, len(args)):] {
		if strings.HasPrefix(a, "-") {
			return nil, fmt.Errorf("flag %s after the arguments: flags go before %s", a, names[0])
		}
	}
	if len(args) < atLeast || len(args) > len(names) {
		want := strings.Join(names[:atLeast], " and ")
		if atLeast < len(names) {
			want += ", and optionally " + strings.Join(names[atLeast:], " and ")
		}
		return nil, fmt.Errorf("want %s, got %d arguments (agent %s -h shows the usage)", want, len(args), cmd)
	}
	return args, nil
}
