package partition

import (
	"cmp"
	"container/heap"
	"context"
	"slices"
	"strings"
)

// parts deals every item collected by add into Options.Parts chunks with
// balance and sends them, like fpart -n. Until then every entry is held in
// memory: about 150 bytes and the path per entry.
func (a *assembler) parts(ctx context.Context) error {
	items := append(a.items, a.links.rest()...)
	a.items = nil
	for _, c := range balance(items, a.opt.Parts, a.opt.EntryCost) {
		if err := sendChunk(ctx, a.out, c); err != nil {
			return err
		}
	}
	return nil
}

// balance deals items into k chunks, largest cost first, each into the
// chunk with the least cost so far (greedy LPT, like fpart -n). When the
// costliest chunk took its last item it was the cheapest, so the costs of
// any two chunks differ by at most the largest item's cost. Each chunk's
// entries are sorted by path, so a directory comes before its children
// within a chunk; across chunks there is no order. It returns exactly k
// chunks, some empty when there are fewer than k items. It is a pure
// function but for reordering items.
func balance(items []item, k int, entryCost int64) []Chunk {
	slices.SortFunc(items, func(a, b item) int {
		if c := cmp.Compare(b.cost(entryCost), a.cost(entryCost)); c != 0 {
			return c
		}
		return strings.Compare(a.first(), b.first()) // the same tree gives the same chunks
	})
	chunks := make([]Chunk, k)
	h := make(costHeap, k)
	for i := range chunks {
		chunks[i].ID = i
		h[i] = &chunks[i]
	}
	for i := range items {
		h[0].add(&items[i], entryCost)
		heap.Fix(&h, 0)
	}
	for i := range chunks {
		slices.SortFunc(chunks[i].Entries, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
	}
	return chunks
}

// costHeap is a min-heap of chunks by cost, then ID.
type costHeap []*Chunk

func (h costHeap) Len() int { return len(h) }
func (h costHeap) Less(i, j int) bool {
	if h[i].Cost != h[j].Cost {
		return h[i].Cost < h[j].Cost
	}
	return h[i].ID < h[j].ID
}
func (h costHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *costHeap) Push(x any)   { *h = append(*h, x.(*Chunk)) }
func (h *costHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
