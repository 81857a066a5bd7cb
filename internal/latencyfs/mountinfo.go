package latencyfs

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// mounted reports whether dir is a mountpoint in this process's mount
// namespace, from /proc/self/mountinfo.
func mounted(dir string) (bool, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return false, err
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && unescapeOctal(fields[4]) == dir {
			return true, nil
		}
	}
	return false, sc.Err()
}

// unescapeOctal undoes the kernel's \ooo escaping of space, tab, newline
// and backslash in mountinfo paths.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// ensureUnmounted detaches dir with fusermount3 -uz if it is still
// mounted, and reports a mount it could not remove.
func ensureUnmounted(dir string) error {
	ok, err := mounted(dir)
	if err != nil || !ok {
		return err
	}
	out, err := exec.Command("fusermount3", "-uz", dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("fusermount3 -uz %s: %w: %s", dir, err, strings.TrimSpace(string(out)))
	}
	if ok, err := mounted(dir); err != nil || ok {
		return fmt.Errorf("%s still mounted after fusermount3 -uz (%v)", dir, err)
	}
	return nil
}
