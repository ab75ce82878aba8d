package ids

import (
	"unicode/utf8"
)

// emojiAlphabet holds the 64 emoji symbols in value order. Each is one code
// point that (checked against Unicode 15 emoji-data.txt, see
// TestEmojiAlphabetProperties):
//   - has Emoji_Presentation=Yes, so it shows as emoji without U+FE0F;
//   - is from Unicode 11 or older, so phones from 2018 on have a glyph;
//   - is not an Emoji_Modifier_Base or component: no skin tones can attach;
//   - has no text-style variation sequence and takes part in no ZWJ
//     sequence, so no renderer has a reason to merge or restyle it;
//   - is not a flag, regional indicator, keycap base, heart, hand or face,
//     the things people type by themselves (nor 🍑/🍆-like innuendo).
//
// They are animals, plants, food and objects, picked to look unlike each
// other, and all lie in U+1F300..U+1F9FF, four bytes of UTF-8 each.
const emojiAlphabet = "" +
	"🐙🐢🐌🐝🐞🦋🐬🐳🦀🦒🦓🦔🦉🐧🐘🐪" +
	"🦊🐸🦄🦕🦑🐡🐓🐊🐚🍀🌵🌻🍁🌴🌰🌷" +
	"🍄🍇🍉🍋🍌🍍🍒🍓🥝🥥🥑🥕🌽🥦🥨🧀" +
	"🍩🍪🎈🎸🎺🎻🥁🔑🔔🎲🔭💡📎🎩🚂🚁"

// emojiBase and emojiSpan bound the code points of the alphabet, so a rune
// maps to its value through a 1,792-entry table.
const (
	emojiBase = 0x1F300
	emojiSpan = 0x1FA00 - emojiBase
)

// maxEmojiLen is the longest emoji code: 11 data symbols hold 64 bits, plus
// two check symbols.
const maxEmojiLen = 11 + 2

// emojiRunes returns the alphabet as runes, index = symbol value.
func emojiRunes() [64]rune {
	var rs [64]rune
	i := 0
	for _, r := range emojiAlphabet {
		rs[i] = r
		i++
	}
	return rs
}

// Emoji returns n's emoji code: 4 data emoji for numbers below 2^24, 5 up to
// Cycle, then two check emoji; no U+FE0F, no joiners, no spaces. Emoji(0)
// is "".
func (c *Codec) Emoji(n uint64) string {
	if n == 0 {
		return ""
	}
	var sym [maxEmojiLen]uint8
	k := c.emojiSymbols(&sym, n)
	var buf [maxEmojiLen * 4]byte
	out := buf[:0]
	for _, v := range sym[:k] {
		out = append(out, emojiAlphabet[4*int(v):4*int(v)+4]...)
	}
	return string(out)
}

// emojiSymbols writes n's data and check symbol values into sym and returns
// how many there are.
func (c *Codec) emojiSymbols(sym *[maxEmojiLen]uint8, n uint64) int {
	l := emojiDataLen(n)
	for i := l - 1; i >= 0; i-- {
		sym[i] = uint8(n & 63)
		n >>= 6
	}
	sym[l], sym[l+1] = gf64.checkSymbols(sym[:l], c.emojiTarget[l])
	return l + 2
}

// emojiNumber checks emoji symbol values and returns their number.
func (c *Codec) emojiNumber(sym []uint8) (uint64, bool) {
	if !gf64.valid(sym, c.emojiTarget[len(sym)-2]) {
		return 0, false
	}
	var n uint64
	for _, d := range sym[:len(sym)-2] {
		if n>>58 != 0 {
			return 0, false
		}
		n = n<<6 | uint64(d)
	}
	if n == 0 || emojiDataLen(n) != len(sym)-2 {
		return 0, false
	}
	return n, true
}

// emojiAt returns the symbol value of the alphabet emoji starting at
// text[i] and its size in bytes, or ok=false.
func (c *Codec) emojiAt(text string, i int) (v uint8, size int, ok bool) {
	if i+4 > len(text) || text[i] != 0xF0 {
		return 0, 0, false
	}
	r, size := utf8.DecodeRuneInString(text[i:])
	if r < emojiBase || r >= emojiBase+emojiSpan {
		return 0, 0, false
	}
	v = c.emojiValue[r-emojiBase]
	return v, size, v != noSymbol
}

// emojiGap returns the size of the character at text[i] if it may stand
// between two emoji of a code: whitespace and line breaks a person adds,
// and the selectors and zero-width characters that keyboards and apps add
// or drop (U+FE0E, U+FE0F, U+200B..U+200D, U+2060, U+2063, U+FEFF). It
// returns 0 for anything else.
func emojiGap(text string, i int) int {
	switch b := text[i]; b {
	case ' ', '\t', '\n', '\r':
		return 1
	case 0xC2: // U+00A0 no-break space
		if i+1 < len(text) && text[i+1] == 0xA0 {
			return 2
		}
	case 0xE2:
		if i+2 < len(text) {
			switch text[i+1] {
			case 0x80: // U+200B..U+200D, U+2028, U+2029, U+202F
				switch text[i+2] {
				case 0x8B, 0x8C, 0x8D, 0xA8, 0xA9, 0xAF:
					return 3
				}
			case 0x81: // U+2060 word joiner, U+2063 invisible separator
				if text[i+2] == 0xA0 || text[i+2] == 0xA3 {
					return 3
				}
			}
		}
	case 0xEF:
		if i+2 < len(text) {
			// U+FE0E, U+FE0F, U+FEFF
			if (text[i+1] == 0xB8 && (text[i+2] == 0x8E || text[i+2] == 0x8F)) ||
				(text[i+1] == 0xBB && text[i+2] == 0xBF) {
				return 3
			}
		}
	}
	return 0
}
