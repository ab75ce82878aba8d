package ids

// Check symbols: every code ends in two check symbols computed over GF(2^m),
// m = 5 for the 32-symbol token alphabet and m = 6 for the 64-emoji
// alphabet, so the check symbols are ordinary symbols of the same alphabet.
//
// Reading the symbols of a code as c_j, j counted from the end (the last
// symbol has j = 0), a code is valid when
//
//	S1 = sum c_j·α^j  = t(L)   and   S2 = sum c_j·α^(2j) = t(L)
//
// where L is the number of data symbols and t(L) a nonzero target derived
// from the site secret. With 0 on the right this is a shortened
// Reed-Solomon code of distance 3, so any one or two changed symbols are
// caught, which covers every single substitution and every swap of
// neighbours; a nonzero target only shifts the code to a coset and keeps
// that. Because t(L) is nonzero and differs from t(L-1), a code that lost
// its first or its last symbol never checks (worked out in
// TestTruncationAlwaysCaught). Because t depends on the secret, another
// site's code checks only by chance. A random word passes with probability
// 2^-2m: 1/1024 for tokens, 1/4096 for emoji.

// field is GF(2^m): m in the high byte, the reduction polynomial without its
// top term in the low byte. A constant rather than a struct so the package
// holds no variables. α = x = 2 is primitive for both polynomials used here.
type field uint16

const (
	// gf32 is GF(2^5) with x^5+x^2+1, for token symbols.
	gf32 field = 5<<8 | 0x05
	// gf64 is GF(2^6) with x^6+x+1, for emoji symbols.
	gf64 field = 6<<8 | 0x03
)

func (f field) bits() uint  { return uint(f >> 8) }
func (f field) poly() uint8 { return uint8(f) }

// mulAlpha multiplies by α: a shift and a conditional reduction.
func (f field) mulAlpha(a uint8) uint8 {
	a <<= 1
	if a>>f.bits() != 0 {
		a = (a ^ f.poly()) & (1<<f.bits() - 1)
	}
	return a
}

func (f field) mul(a, b uint8) uint8 {
	var p uint8
	for b != 0 {
		if b&1 != 0 {
			p ^= a
		}
		a = f.mulAlpha(a)
		b >>= 1
	}
	return p
}

// inv returns a^(2^m-2), the multiplicative inverse of a nonzero a.
func (f field) inv(a uint8) uint8 {
	r := uint8(1)
	for e := 1<<f.bits() - 2; e > 0; e >>= 1 {
		if e&1 != 0 {
			r = f.mul(r, a)
		}
		a = f.mul(a, a)
	}
	return r
}

// syndromes folds the symbols (first symbol = highest position) by Horner's
// rule into S1 and S2.
func (f field) syndromes(sym []uint8) (s1, s2 uint8) {
	for _, c := range sym {
		s1 = f.mulAlpha(s1) ^ c
		s2 = f.mulAlpha(f.mulAlpha(s2)) ^ c
	}
	return s1, s2
}

// valid reports whether sym, data followed by two check symbols, checks
// against target t.
func (f field) valid(sym []uint8, t uint8) bool {
	s1, s2 := f.syndromes(sym)
	return s1 == t && s2 == t
}

// checkSymbols returns the two check symbols that follow data for target t.
func (f field) checkSymbols(data []uint8, t uint8) (c1, c0 uint8) {
	var a, b uint8
	for _, d := range data {
		a = f.mulAlpha(a) ^ d
		b = f.mulAlpha(f.mulAlpha(b)) ^ d
	}
	// Shift both sums past the two check positions.
	a = f.mulAlpha(f.mulAlpha(a))
	b = f.mulAlpha(f.mulAlpha(f.mulAlpha(f.mulAlpha(b))))
	a ^= t
	b ^= t
	// c0 + c1·α = a and c0 + c1·α² = b.
	alpha := f.mulAlpha(1)
	alpha2 := f.mulAlpha(alpha)
	c1 = f.mul(a^b, f.inv(alpha^alpha2))
	c0 = a ^ f.mul(c1, alpha)
	return c1, c0
}

// checkTargets derives the targets t(L) of one field for data lengths up to
// maxData from key bytes: each nonzero and different from the one before.
func (f field) checkTargets(dst []uint8, key []byte) {
	order := uint8(1<<f.bits() - 1) // number of nonzero elements
	for l := range dst {
		t := 1 + key[l]%order
		if l > 0 && t == dst[l-1] {
			t = 1 + t%order
		}
		dst[l] = t
	}
}

// correct changes the one symbol of sym that makes it check against target
// t, if a single changed symbol explains the syndromes, and reports whether
// it did. An error e at position j (counted from the end) shifts the
// syndromes by e·α^j and e·α^(2j), so α^j is their quotient. Used only to
// guess which code a person edited (see FindNear), never to match one.
func (f field) correct(sym []uint8, t uint8) bool {
	s1, s2 := f.syndromes(sym)
	d1, d2 := s1^t, s2^t
	if d1 == 0 || d2 == 0 {
		return false
	}
	x := f.mul(d2, f.inv(d1))
	p := uint8(1)
	for j := 0; j < len(sym); j++ {
		if p == x {
			sym[len(sym)-1-j] ^= f.mul(d1, f.inv(p))
			return true
		}
		p = f.mulAlpha(p)
	}
	return false
}
