package transfer

import (
	"encoding/binary"
	"errors"
	"unsafe"

	"golang.org/x/sys/unix"
)

// readTyped returns the names in the directory fd, split into
// subdirectories and the rest, by the type getdents gives (one fstatat
// for a file system that gives none), without "." and "..".
func readTyped(fd int) (files, dirs []string, err error) {
	buf := direntBufs.Get().(*[]byte)
	defer direntBufs.Put(buf)
	for {
		n, err := unix.Getdents(fd, *buf)
		if err != nil {
			return nil, nil, err
		}
		if n == 0 {
			return files, dirs, nil
		}
		for b := (*buf)[:n]; len(b) > 0; {
			var d unix.Dirent
			reclen := int(binary.NativeEndian.Uint16(b[unsafe.Offsetof(d.Reclen):]))
			if reclen == 0 || reclen > len(b) {
				return nil, nil, unix.EIO // a corrupt buffer: never loop on it
			}
			typ := b[unsafe.Offsetof(d.Type)]
			name := b[unsafe.Offsetof(d.Name):reclen]
			for i, c := range name {
				if c == 0 {
					name = name[:i]
					break
				}
			}
			b = b[reclen:]
			if s := string(name); s != "." && s != ".." {
				isDir := typ == unix.DT_DIR
				if typ == unix.DT_UNKNOWN {
					var st unix.Stat_t
					err := unix.Fstatat(fd, s, &st, unix.AT_SYMLINK_NOFOLLOW)
					if errors.Is(err, unix.ENOENT) {
						continue // gone already
					}
					if err != nil {
						return nil, nil, err
					}
					isDir = st.Mode&unix.S_IFMT == unix.S_IFDIR
				}
				if isDir {
					dirs = append(dirs, s)
				} else {
					files = append(files, s)
				}
			}
		}
	}
}
