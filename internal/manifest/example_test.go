package manifest_test

import (
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

	"github.com/efsync/efsync/internal/manifest"
	"github.com/zeebo/xxh3"
)

// Write a manifest out of order, read it back sorted, and join it with the
// next snapshot's to find what changed.
func Example() {
	dir, err := os.MkdirTemp("", "manifest-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	write := func(name string, recs ...manifest.Record) string {
		name = filepath.Join(dir, name)
		w, err := manifest.Create(name, manifest.Options{})
		if err != nil {
			log.Fatal(err)
		}
		defer w.Abort() // removes the temporary files if Close is not reached
		for _, r := range recs {
			if err := w.Add(r); err != nil { // any order, any goroutine
				log.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			log.Fatal(err)
		}
		return name
	}
	hello := manifest.Record{Path: "docs/hello.txt", Type: manifest.TypeFile, Mode: 0o644, Size: 6,
		Hash: xxh3.HashString128("hello\n").Bytes(), HasHash: true}
	prev := write("prev",
		hello,
		manifest.Record{Path: "docs", Type: manifest.TypeDir, Mode: 0o755},
		manifest.Record{Path: ".", Type: manifest.TypeDir, Mode: 0o755},
		manifest.Record{Path: "old", Type: manifest.TypeSymlink, Mode: 0o777, Target: "docs"},
	)
	next := write("next",
		manifest.Record{Path: ".", Type: manifest.TypeDir, Mode: 0o755},
		manifest.Record{Path: "docs", Type: manifest.TypeDir, Mode: 0o755},
		manifest.Record{Path: "docs/hello.txt", Type: manifest.TypeFile, Mode: 0o600, Size: 6},
		manifest.Record{Path: "docs.txt", Type: manifest.TypeFile, Mode: 0o644},
	)

	r, err := manifest.Open(prev)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%-8s %04o %s\n", rec.Type, rec.Mode, rec.Path)
	}

	a, err := manifest.Open(prev)
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()
	b, err := manifest.Open(next)
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	err = manifest.Join(a, b, func(ra, rb *manifest.Record) error {
		switch {
		case rb == nil:
			fmt.Println("lost  ", ra.Path)
		case ra == nil:
			fmt.Println("gained", rb.Path)
		case ra.Mode != rb.Mode:
			fmt.Printf("mode   %s %04o -> %04o\n", ra.Path, ra.Mode, rb.Mode)
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// dir      0755 .
	// dir      0755 docs
	// file     0644 docs/hello.txt
	// symlink  0777 old
	// mode   docs/hello.txt 0644 -> 0600
	// gained docs.txt
	// lost   old
}
