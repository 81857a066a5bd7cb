package transfer

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
)

// TempPrefix starts the name of every temporary file the copier makes.
// Temporary names are short and of fixed length, so that a 255-byte name
// still has a temporary twin, and recognisable, so that a later run can
// remove what a killed one left (IsTemp).
const TempPrefix = ".efsync-"

const tempSuffix = ".tmp"

// tempName returns a new random temporary name.
func tempName() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return TempPrefix + hex.EncodeToString(b[:]) + tempSuffix
}

// IsTemp reports whether name is one the copier gives temporary files.
func IsTemp(name string) bool {
	return len(name) == len(TempPrefix)+12+len(tempSuffix) &&
		strings.HasPrefix(name, TempPrefix) && strings.HasSuffix(name, tempSuffix)
}
