package ids

import (
	"testing"
)

// Secrets of two sites; the tests never depend on their exact codes.
var (
	secretA = []byte("site A secret, 32 bytes long....")
	secretB = []byte("site B secret, 32 bytes long....")
)

func newTestCodec(t testing.TB, secret []byte) *Codec {
	t.Helper()
	c, err := NewCodec(secret)
	if err != nil {
		t.Fatalf("NewCodec: %v", err)
	}
	return c
}

// sampleNumbers are numbers of each length tier, as Number hands them out.
func sampleNumbers(t testing.TB, c *Codec) []uint64 {
	t.Helper()
	var ns []uint64
	for _, counter := range []uint64{1, 2, 3, 77, 1 << 19, 720_896, 720_897, 1 << 20, 1<<24 - 1, 1 << 24, 23_789_568, 23_789_569, 1 << 29, Cycle - 1, Cycle} {
		ns = append(ns, c.Number(counter))
	}
	return ns
}
