package testtree

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Mode is permission bits with setuid, setgid and sticky, printed in octal.
type Mode uint32

func (m Mode) String() string { return fmt.Sprintf("%04o", uint32(m)) }

// Nanos is a time in nanoseconds since the Unix epoch, printed with its
// nanoseconds.
type Nanos int64

func (n Nanos) String() string { return time.Unix(0, int64(n)).UTC().Format(time.RFC3339Nano) }

// Xattr is an extended attribute's value. ACL values print as their entries.
type Xattr string

func (x Xattr) String() string {
	if s, ok := aclText([]byte(x)); ok {
		return s
	}
	return strconv.Quote(string(x))
}

// aclText decodes the Linux xattr form of a POSIX ACL: a little-endian
// version 2 header, then (tag u16, perm u16, id u32) entries.
func aclText(b []byte) (string, bool) {
	if len(b) < 4 || (len(b)-4)%8 != 0 || binary.LittleEndian.Uint32(b) != 2 {
		return "", false
	}
	tags := map[uint16]string{1: "user::", 2: "user:", 4: "group::", 8: "group:", 0x10: "mask::", 0x20: "other::"}
	var parts []string
	for e := b[4:]; len(e) >= 8; e = e[8:] {
		tag, perm, id := binary.LittleEndian.Uint16(e), binary.LittleEndian.Uint16(e[2:]), binary.LittleEndian.Uint32(e[4:])
		name, ok := tags[tag]
		if !ok {
			return "", false
		}
		if tag == 2 || tag == 8 {
			name += strconv.FormatUint(uint64(id), 10) + ":"
		}
		rwx := []byte("---")
		for i, c := range "rwx" {
			if perm&(4>>i) != 0 {
				rwx[i] = byte(c)
			}
		}
		parts = append(parts, name+string(rwx))
	}
	return "acl(" + strings.Join(parts, ",") + ")", true
}

// ACL encodes POSIX ACL entries such as "user::rw-", "user:1000:r--",
// "group::r--", "mask::r--", "other::---" in the Linux xattr form, for the
// system.posix_acl_access and system.posix_acl_default attributes. Entries
// must be in the kernel's order: by tag, then by id.
func ACL(entries ...string) string {
	tags := map[string]uint16{"user": 1, "group": 4, "mask": 0x10, "other": 0x20}
	b := binary.LittleEndian.AppendUint32(nil, 2)
	for _, e := range entries {
		f := strings.Split(e, ":")
		tag, id := tags[f[0]], uint32(0xffffffff)
		if f[1] != "" {
			n, _ := strconv.ParseUint(f[1], 10, 32)
			id, tag = uint32(n), tag*2 // user: → 2, group: → 8
		}
		var perm uint16
		for i, c := range "rwx" {
			if f[2][i] == byte(c) {
				perm |= 4 >> i
			}
		}
		b = binary.LittleEndian.AppendUint16(b, tag)
		b = binary.LittleEndian.AppendUint16(b, perm)
		b = binary.LittleEndian.AppendUint32(b, id)
	}
	return string(b)
}
