package ids

import (
	"fmt"
	"math/bits"
	"strings"
)

// tokenAlphabet is Crockford's base 32: digits and upper-case letters
// without I, L, O (look like 1 and 0) and U (keeps accidental words out).
// Reading maps I, L to 1 and O to 0 and ignores case.
const tokenAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// maxTokenLen is the longest token without marker: 13 data symbols hold 64
// bits, plus two check symbols.
const maxTokenLen = 13 + 2

// VisitID returns n's token without the '#' marker, e.g. "K7Q2M9": the
// short visit ID the collector answers in JSON. Numbers up to 720,896 take
// 4 data symbols, up to 23,789,568 five, up to Cycle six; the first is
// always a letter, and two check symbols follow. VisitID(0) is "", as 0 is
// no visit's number.
func (c *Codec) VisitID(n uint64) string {
	if n == 0 {
		return ""
	}
	var buf [maxTokenLen]byte
	return string(c.appendToken(buf[:0], n))
}

// Token returns n's token with its marker, e.g. "#K7Q2M9", as it appears
// in a prefilled message; "" for 0.
func (c *Codec) Token(n uint64) string {
	if n == 0 {
		return ""
	}
	var buf [1 + maxTokenLen]byte
	return string(c.appendToken(append(buf[:0], '#'), n))
}

// appendToken appends the data and check symbols of n.
func (c *Codec) appendToken(dst []byte, n uint64) []byte {
	var sym [maxTokenLen]uint8
	k := c.tokenSymbols(&sym, n)
	for _, v := range sym[:k] {
		dst = append(dst, tokenAlphabet[v])
	}
	return dst
}

// tokenSymbols writes the data and check symbol values of n (n >= 1) into
// sym and returns how many there are. The data is n's offset in its tier in
// mixed radix: a letter (values 10..31), then base-32 symbols.
func (c *Codec) tokenSymbols(sym *[maxTokenLen]uint8, n uint64) int {
	l, base := tokenTier(n)
	o := n - base
	for i := l - 1; i > 0; i-- {
		sym[i] = uint8(o & 31)
		o >>= 5
	}
	sym[0] = 10 + uint8(o)
	sym[l], sym[l+1] = gf32.checkSymbols(sym[:l], c.tokenTarget[l])
	return l + 2
}

// ParseVisitID reads a token typed or pasted by a person: case does not
// matter, O reads as 0 and I or L as 1, a leading '#' and surrounding spaces
// are ignored. Anything else that differs from a minted code is an error:
// a changed symbol, swapped neighbours, a missing or extra symbol.
func (c *Codec) ParseVisitID(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "#")
	if s == "" {
		return 0, fmt.Errorf("ids.ParseVisitID: %w", ErrEmpty)
	}
	n, err := c.decodeToken(s)
	if err != nil {
		return 0, fmt.Errorf("ids.ParseVisitID: %w", err)
	}
	return n, nil
}

// decodeToken reads the symbols of a token without marker.
func (c *Codec) decodeToken(s string) (uint64, error) {
	k := len(s)
	if k < minDataLen+2 || k > maxTokenLen {
		return 0, ErrLength
	}
	var sym [maxTokenLen]uint8
	for i := 0; i < k; i++ {
		v := c.tokenValue[s[i]]
		if v == noSymbol {
			return 0, ErrSymbol
		}
		sym[i] = v
	}
	return c.tokenNumber(sym[:k])
}

// tokenNumber checks token symbol values and returns their number.
func (c *Codec) tokenNumber(sym []uint8) (uint64, error) {
	if !gf32.valid(sym, c.tokenTarget[len(sym)-2]) {
		return 0, ErrCheck
	}
	l := len(sym) - 2
	if sym[0] < 10 {
		return 0, ErrNotCanonical // tokens start with a letter
	}
	var rest uint64
	for _, d := range sym[1:l] {
		rest = rest<<5 | uint64(d)
	}
	_, base := tokenTierStart(l)
	// n = base + (first letter)·32^(l-1) + rest, refusing anything past
	// 64 bits (only possible for l = 13).
	hi, o := bits.Mul64(uint64(sym[0]-10), 1<<(5*(l-1)))
	o, carry := bits.Add64(o, rest, 0)
	hi += carry
	n, carry := bits.Add64(o, base, 0)
	if hi+carry != 0 {
		return 0, ErrNotCanonical
	}
	return n, nil
}

// tokenTierStart returns the first number whose token has l data symbols.
func tokenTierStart(l int) (int, uint64) {
	base := uint64(1)
	for k := minDataLen; k < l; k++ {
		base += tierSize(k)
	}
	return l, base
}
