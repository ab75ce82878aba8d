package ids

import (
	"testing"
)

// TestCheckCatchesEverySingleChangeAndSwap tries, for a spread of numbers
// of every length, every one-symbol substitution and every swap of
// neighbours, in both alphabets: none may check.
func TestCheckCatchesEverySingleChangeAndSwap(t *testing.T) {
	c := newTestCodec(t, secretA)
	tests := []struct {
		name    string
		f       field
		symbols int
		encode  func(n uint64) []uint8
		target  func(sym []uint8) uint8
	}{
		{name: "token", f: gf32, symbols: 32, encode: func(n uint64) []uint8 {
			var s [maxTokenLen]uint8
			return s[:c.tokenSymbols(&s, n)]
		}, target: func(sym []uint8) uint8 { return c.tokenTarget[len(sym)-2] }},
		{name: "emoji", f: gf64, symbols: 64, encode: func(n uint64) []uint8 {
			var s [maxEmojiLen]uint8
			return s[:c.emojiSymbols(&s, n)]
		}, target: func(sym []uint8) uint8 { return c.emojiTarget[len(sym)-2] }},
	}
	numbers := sampleNumbers(t, c)
	numbers = append(numbers, 1, 1<<30, 1<<40+12345, ^uint64(0))
	for counter := uint64(1); counter < 300; counter++ {
		numbers = append(numbers, c.Number(counter))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, n := range numbers {
				code := tt.encode(n)
				if !tt.f.valid(code, tt.target(code)) {
					t.Fatalf("code of %d does not check", n)
				}
				w := make([]uint8, len(code))
				for i := range code {
					for v := 0; v < tt.symbols; v++ {
						if uint8(v) == code[i] {
							continue
						}
						copy(w, code)
						w[i] = uint8(v)
						if tt.f.valid(w, tt.target(w)) {
							t.Fatalf("n=%d: changing symbol %d to %d still checks", n, i, v)
						}
					}
					if i+1 < len(code) && code[i] != code[i+1] {
						copy(w, code)
						w[i], w[i+1] = w[i+1], w[i]
						if tt.f.valid(w, tt.target(w)) {
							t.Fatalf("n=%d: swapping symbols %d and %d still checks", n, i, i+1)
						}
					}
				}
			}
		})
	}
}

// TestTruncationAlwaysCaught: a code that lost its first or its last symbol
// never checks at the length it then has. Why, with targets t = t(L):
// dropping the last symbol c0 leaves S1' = α^-1·(t ⊕ c0) and
// S2' = α^-2·(t ⊕ c0); both equal t' = t(L-1) only if (α ⊕ α²)·t' = 0,
// impossible as t' ≠ 0. Dropping the first symbol c leaves S1' = t ⊕ c·α^j
// and S2' = t ⊕ c·α^2j; both equal t' only if c = 0 and t = t', and the
// targets of neighbouring lengths differ.
func TestTruncationAlwaysCaught(t *testing.T) {
	for _, secret := range [][]byte{secretA, secretB, []byte("0123456789abcdef")} {
		c := newTestCodec(t, secret)
		for counter := uint64(1); counter < 1<<62; counter = counter*3 + 1 {
			for _, n := range []uint64{c.Number(counter), counter} {
				var s [maxTokenLen]uint8
				code := s[:c.tokenSymbols(&s, n)]
				if len(code)-1 >= minDataLen+2 {
					short := len(code) - 3
					if gf32.valid(code[1:], c.tokenTarget[short]) {
						t.Errorf("n=%d: token without its first symbol still checks", n)
					}
					if gf32.valid(code[:len(code)-1], c.tokenTarget[short]) {
						t.Errorf("n=%d: token without its last symbol still checks", n)
					}
				}
				var e [maxEmojiLen]uint8
				ecode := e[:c.emojiSymbols(&e, n)]
				if len(ecode)-1 >= minDataLen+2 {
					short := len(ecode) - 3
					if gf64.valid(ecode[1:], c.emojiTarget[short]) || gf64.valid(ecode[:len(ecode)-1], c.emojiTarget[short]) {
						t.Errorf("n=%d: an emoji code one symbol short still checks", n)
					}
				}
			}
		}
	}
}

func TestCheckTargets(t *testing.T) {
	c := newTestCodec(t, secretA)
	for l := minDataLen; l < len(c.tokenTarget); l++ {
		if c.tokenTarget[l] == 0 || c.tokenTarget[l] >= 32 || c.tokenTarget[l] == c.tokenTarget[l-1] {
			t.Errorf("token target %d = %d", l, c.tokenTarget[l])
		}
	}
	for l := minDataLen; l < len(c.emojiTarget); l++ {
		if c.emojiTarget[l] == 0 || c.emojiTarget[l] >= 64 || c.emojiTarget[l] == c.emojiTarget[l-1] {
			t.Errorf("emoji target %d = %d", l, c.emojiTarget[l])
		}
	}
}

func TestFieldInverse(t *testing.T) {
	for _, f := range []field{gf32, gf64} {
		for a := 1; a < 1<<f.bits(); a++ {
			if got := f.mul(uint8(a), f.inv(uint8(a))); got != 1 {
				t.Fatalf("GF(2^%d): %d * inv(%d) = %d", f.bits(), a, a, got)
			}
		}
		// α must be primitive: its powers run through every nonzero element.
		seen := map[uint8]bool{}
		x := uint8(1)
		for i := 0; i < 1<<f.bits()-1; i++ {
			seen[x] = true
			x = f.mulAlpha(x)
		}
		if len(seen) != 1<<f.bits()-1 || x != 1 {
			t.Fatalf("GF(2^%d): α is not primitive", f.bits())
		}
	}
}
