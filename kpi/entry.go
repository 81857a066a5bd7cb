package kpi

import (
	"fmt"
	"io/fs"
)

// EntryType is the type of a file system entry, as counted when it is
// scanned or deleted.
type EntryType uint8

// The entry types. TypeOther is used for any mode TypeOf does not know and
// for out-of-range values passed to Counters.
const (
	TypeFile    EntryType = iota // regular file
	TypeDir                      // directory
	TypeSymlink                  // symbolic link
	TypeFIFO                     // named pipe
	TypeSocket                   // Unix domain socket
	TypeDevice                   // block or character device
	TypeOther                    // anything else
	numTypes
)

// typeNames are the label values of the entry types; "reg", "dir" and "link"
// in the text summary follow rsync --stats instead.
var typeNames = [numTypes]string{
	TypeFile:    "file",
	TypeDir:     "dir",
	TypeSymlink: "symlink",
	TypeFIFO:    "fifo",
	TypeSocket:  "socket",
	TypeDevice:  "device",
	TypeOther:   "other",
}

// String returns the name used in JSON and Prometheus labels, such as
// "file" or "symlink".
func (t EntryType) String() string {
	if t >= numTypes {
		return fmt.Sprintf("EntryType(%d)", uint8(t))
	}
	return typeNames[t]
}

// TypeOf returns the entry type of a file mode. It is a pure function.
func TypeOf(mode fs.FileMode) EntryType {
	switch t := mode.Type(); {
	case t == 0:
		return TypeFile
	case t&fs.ModeDir != 0:
		return TypeDir
	case t&fs.ModeSymlink != 0:
		return TypeSymlink
	case t&fs.ModeNamedPipe != 0:
		return TypeFIFO
	case t&fs.ModeSocket != 0:
		return TypeSocket
	case t&fs.ModeDevice != 0: // ModeCharDevice comes with ModeDevice
		return TypeDevice
	}
	return TypeOther
}

// EntryCounts holds a number of entries for each entry type.
type EntryCounts struct {
	File    int64 `json:"file"`
	Dir     int64 `json:"dir"`
	Symlink int64 `json:"symlink"`
	FIFO    int64 `json:"fifo"`
	Socket  int64 `json:"socket"`
	Device  int64 `json:"device"`
	Other   int64 `json:"other"`
}

// Total returns the number of entries of all types.
func (e EntryCounts) Total() int64 {
	return e.File + e.Dir + e.Symlink + e.FIFO + e.Socket + e.Device + e.Other
}

// entryCounts copies an array indexed by EntryType into EntryCounts.
func entryCounts(a *[numTypes]int64) EntryCounts {
	return EntryCounts{
		File: a[TypeFile], Dir: a[TypeDir], Symlink: a[TypeSymlink],
		FIFO: a[TypeFIFO], Socket: a[TypeSocket], Device: a[TypeDevice],
		Other: a[TypeOther],
	}
}

// array returns e as an array indexed by EntryType, for output in a fixed
// order.
func (e EntryCounts) array() [numTypes]int64 {
	return [numTypes]int64{
		TypeFile: e.File, TypeDir: e.Dir, TypeSymlink: e.Symlink,
		TypeFIFO: e.FIFO, TypeSocket: e.Socket, TypeDevice: e.Device,
		TypeOther: e.Other,
	}
}
