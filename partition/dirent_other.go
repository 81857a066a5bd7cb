//go:build !linux

package partition

// readDir lists fd's directory with godirwalk, by its path: outside Linux,
// the portable lister (see godirwalkFS).
func (sysFS) readDir(fd int, dir string, buf []byte, ents []dirent) ([]dirent, error) {
	return godirwalkFS{}.readDir(fd, dir, buf, ents)
}

// defaultFS returns the dirFS used when Options leave it unset.
func defaultFS() dirFS { return sysFS{} }
