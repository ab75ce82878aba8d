package ids

// The invisible form writes the token's symbols (data and check, 5 bits
// each) as base-4 digits, one zero-width character per digit, most
// significant first, with a zero bit of padding when the bit count is odd:
//
//	0 U+200B ZERO WIDTH SPACE       2 U+2060 WORD JOINER
//	1 U+200C ZERO WIDTH NON-JOINER  3 U+2063 INVISIBLE SEPARATOR
//
// All four are default-ignorable, draw nothing, and none of them joins
// emoji: U+200D ZERO WIDTH JOINER is never used, because next to an emoji
// it can fuse two emoji into one. Direction marks (U+200E/F) are avoided as
// they reorder Arabic and Hebrew text, and U+FEFF because programs strip it
// as a byte-order mark. The run goes directly in front of the visible code,
// never inside it or inside a word, so it cannot change how the code or the
// text around it is shaped. If an app strips one or more of these
// characters, the run no longer has a valid length or check and is
// ignored; the visible code next to it still reads.
const invisibleDigits = "\u200B\u200C\u2060\u2063"

// maxInvisibleLen is the longest run: 15 token symbols = 75 bits = 38 digits.
const maxInvisibleLen = (maxTokenLen*5 + 1) / 2

// invisibleLen is the number of digits for a token of k symbols.
func invisibleLen(k int) int { return (k*5 + 1) / 2 }

// Invisible returns n's invisible form: 15 zero-width characters for
// tokens of 4 data symbols, 18 for 5, 20 for 6 (so up to Cycle); "" for 0. It is meant to be sent
// together with the Token or Emoji of the same number (see Code).
func (c *Codec) Invisible(n uint64) string {
	if n == 0 {
		return ""
	}
	var sym [maxTokenLen]uint8
	k := c.tokenSymbols(&sym, n)
	var buf [maxInvisibleLen * 3]byte
	out := buf[:0]
	var acc uint32 // bit accumulator
	var nacc uint
	for _, v := range sym[:k] {
		acc = acc<<5 | uint32(v)
		nacc += 5
		for nacc >= 2 {
			nacc -= 2
			d := (acc >> nacc) & 3
			out = append(out, invisibleDigits[3*d:3*d+3]...)
		}
	}
	if nacc == 1 {
		d := (acc << 1) & 3
		out = append(out, invisibleDigits[3*d:3*d+3]...)
	}
	return string(out)
}

// invisibleDigit returns the digit of the zero-width character at text[i].
func invisibleDigit(text string, i int) (uint8, bool) {
	if i+2 >= len(text) || text[i] != 0xE2 {
		return 0, false
	}
	switch {
	case text[i+1] == 0x80 && text[i+2] == 0x8B:
		return 0, true
	case text[i+1] == 0x80 && text[i+2] == 0x8C:
		return 1, true
	case text[i+1] == 0x81 && text[i+2] == 0xA0:
		return 2, true
	case text[i+1] == 0x81 && text[i+2] == 0xA3:
		return 3, true
	}
	return 0, false
}

// invisibleNumber decodes a run of r digits that starts at text[i] (the
// caller has checked they are all digits).
func (c *Codec) invisibleNumber(text string, i, r int) (uint64, bool) {
	k := 0
	for cand := minDataLen + 2; cand <= maxTokenLen; cand++ {
		if invisibleLen(cand) == r {
			k = cand
			break
		}
	}
	if k == 0 {
		return 0, false
	}
	var sym [maxTokenLen]uint8
	var acc uint32
	var nacc uint
	s := 0
	for j := 0; j < r; j++ {
		d, _ := invisibleDigit(text, i+3*j)
		acc = acc<<2 | uint32(d)
		nacc += 2
		if nacc >= 5 {
			nacc -= 5
			sym[s] = uint8(acc>>nacc) & 31
			s++
		}
	}
	if acc&(1<<nacc-1) != 0 {
		return 0, false // padding bit set: not written by Invisible
	}
	n, err := c.tokenNumber(sym[:k])
	return n, err == nil
}
