// Package testtree makes file trees for tests and benchmarks: declared as
// data, generated from a seed with every hard case in it, and mutated.
//
//	tree := testtree.Plan(testtree.Small(seed)) // a []Entry, deterministic
//	made, err := tree.Build(dir)                // creates it; counts each Shape made
//	seen, err := testtree.Observe(dir)          // counts each Shape found on disk
//	muts, err := testtree.Mutate(dir, opts)     // changes k% of the entries
//
// Build creates parents before children, writes content, then sets metadata
// in the order a careful copier must (owner, xattrs, mode, times), and sets
// directories' metadata bottom-up last, so the tree on disk is exactly the
// plan. Observe classifies what it finds with the same rules that Plan uses
// on its entries, so a test can compare the two and catch a shape that went
// missing on the way to the disk.
package testtree
