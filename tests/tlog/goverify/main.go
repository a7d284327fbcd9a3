// Command goverify checks a Clearroom transparency log with the Go checksum database's own
// packages (golang.org/x/mod/sumdb/note and sumdb/tlog), an implementation nobody at Clearroom
// wrote. It reads a C2SP tlog-tiles directory, opens the checkpoint with the log's verifier key,
// re-derives the tree hash from the tiles, re-hashes every entry bundle, and checks the proofs
// listed in a JSON file. It prints "ok" or exits non-zero with the reason.
//
// Build (GOPATH mode, Debian's golang-golang-x-mod-dev):
//   GO111MODULE=off GOPATH=/usr/share/gocode go build -o goverify .
// Run: goverify <tiles dir> <verifier key> <proofs.json>
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type proofs struct {
	Inclusion []struct {
		Index    int64    `json:"index"`
		LeafHash string   `json:"leaf_hash"`
		Proof    []string `json:"proof"`
	} `json:"inclusion"`
	Consistency []struct {
		OldSize int64    `json:"old_size"`
		OldRoot string   `json:"old_root"`
		Proof   []string `json:"proof"`
	} `json:"consistency"`
}

// dirTiles serves sumdb tile requests from C2SP paths: the same layout without the "/8"
// height element after "tile".
type dirTiles struct{ dir string }

func (d dirTiles) Height() int { return 8 }

func (d dirTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		path := strings.Replace(t.Path(), "tile/8/", "tile/", 1)
		data, err := os.ReadFile(filepath.Join(d.dir, path))
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}

func (d dirTiles) SaveTiles([]tlog.Tile, [][]byte) {}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "goverify: "+format+"\n", args...)
	os.Exit(1)
}

func decodeHash(s string) tlog.Hash {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(raw) != tlog.HashSize {
		fail("bad hash %q", s)
	}
	var h tlog.Hash
	copy(h[:], raw)
	return h
}

func decodeHashes(list []string) []tlog.Hash {
	out := make([]tlog.Hash, len(list))
	for i, s := range list {
		out[i] = decodeHash(s)
	}
	return out
}

// bundlePath is the C2SP entry-bundle path of bundle n with width w (0 = full).
func bundlePath(n int64, w int) string {
	t := tlog.Tile{H: 8, L: -1, N: n, W: 256}
	if w > 0 {
		t.W = w
	}
	return strings.Replace(t.Path(), "tile/8/data/", "tile/entries/", 1)
}

func main() {
	if len(os.Args) != 4 {
		fail("usage: goverify <tiles dir> <verifier key> <proofs.json>")
	}
	dir, vkey, proofsFile := os.Args[1], os.Args[2], os.Args[3]
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		fail("verifier key: %v", err)
	}
	msg, err := os.ReadFile(filepath.Join(dir, "checkpoint"))
	if err != nil {
		fail("checkpoint: %v", err)
	}
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		fail("checkpoint signature: %v", err)
	}
	lines := strings.SplitN(n.Text, "\n", 4)
	if len(lines) < 4 {
		fail("checkpoint body: %q", n.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("checkpoint size: %v", err)
	}
	tree := tlog.Tree{N: size, Hash: decodeHash(lines[2])}
	reader := tlog.TileHashReader(tree, dirTiles{dir})
	root, err := tlog.TreeHash(size, reader)
	if err != nil {
		fail("tree hash from tiles: %v", err)
	}
	if root != tree.Hash {
		fail("tiles give root %v, checkpoint says %v", root, tree.Hash)
	}

	// Every entry bundle re-hashed and compared with the leaf hashes in the tiles.
	for start := int64(0); start < size; start += 256 {
		width := 0
		if size-start < 256 {
			width = int(size - start)
		}
		data, err := os.ReadFile(filepath.Join(dir, bundlePath(start/256, width)))
		if err != nil {
			fail("entry bundle: %v", err)
		}
		indexes := []int64{}
		entries := [][]byte{}
		for len(data) > 0 {
			if len(data) < 2 {
				fail("bundle %d truncated", start/256)
			}
			l := int(binary.BigEndian.Uint16(data))
			if len(data) < 2+l {
				fail("bundle %d truncated", start/256)
			}
			entries = append(entries, data[2:2+l])
			indexes = append(indexes, tlog.StoredHashIndex(0, start+int64(len(entries)-1)))
			data = data[2+l:]
		}
		hashes, err := reader.ReadHashes(indexes)
		if err != nil {
			fail("leaf hashes: %v", err)
		}
		for i, entry := range entries {
			if tlog.RecordHash(entry) != hashes[i] {
				fail("entry %d does not hash to its leaf", start+int64(i))
			}
		}
	}

	raw, err := os.ReadFile(proofsFile)
	if err != nil {
		fail("proofs: %v", err)
	}
	var p proofs
	if err := json.Unmarshal(raw, &p); err != nil {
		fail("proofs: %v", err)
	}
	for _, inc := range p.Inclusion {
		proof := tlog.RecordProof(decodeHashes(inc.Proof))
		if err := tlog.CheckRecord(proof, size, tree.Hash, inc.Index, decodeHash(inc.LeafHash)); err != nil {
			fail("inclusion proof for %d: %v", inc.Index, err)
		}
		ours, err := tlog.ProveRecord(size, inc.Index, reader)
		if err != nil || !equal(ours, proof) {
			fail("inclusion proof for %d differs from Go's own (%v)", inc.Index, err)
		}
	}
	for _, c := range p.Consistency {
		proof := tlog.TreeProof(decodeHashes(c.Proof))
		if err := tlog.CheckTree(proof, size, tree.Hash, c.OldSize, decodeHash(c.OldRoot)); err != nil {
			fail("consistency proof from %d: %v", c.OldSize, err)
		}
		ours, err := tlog.ProveTree(size, c.OldSize, reader)
		if err != nil || !equal(ours, proof) {
			fail("consistency proof from %d differs from Go's own (%v)", c.OldSize, err)
		}
	}
	fmt.Printf("ok %d entries, %d inclusion and %d consistency proofs\n", size, len(p.Inclusion), len(p.Consistency))
}

func equal(a, b []tlog.Hash) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i][:], b[i][:]) {
			return false
		}
	}
	return true
}
