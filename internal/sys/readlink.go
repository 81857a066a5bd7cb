// Package sys holds the small platform calls that several of efsync's
// packages make the same way.
package sys

import "golang.org/x/sys/unix"

// ReadlinkAt returns the target of the symlink name in the directory
// dirfd, whatever its length: readlinkat(2) truncates silently, so the
// buffer grows until the target fits with room to spare.
func ReadlinkAt(dirfd int, name string) (string, error) {
	for size := 256; ; size *= 4 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dirfd, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}
