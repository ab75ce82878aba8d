package ids

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/bits"
)

// MinSecretLen is the shortest site secret NewCodec accepts, in bytes.
const MinSecretLen = 16

// Cycle is the number of counter values after which Number repeats: the
// code space is 1..Cycle, the numbers whose tokens have 4, 5 or 6 data
// symbols (22·32^3 + 22·32^4 + 22·32^5 = 761,987,072 numbers). A site
// reuses a code only after that many further visits; at a million visits a
// day that is over two years, long after the first visit expired. Every
// number of the code space fits in at most 6 token data symbols or 5 data
// emoji.
const Cycle = tierLetters * (1<<15 + 1<<20 + 1<<25)

// feistelRounds is enough for the mixing to look random to a person reading
// codes; the permutation hides order and volume, it is not encryption.
const feistelRounds = 8

// Codec mints and reads the codes of one site. Its keys come from the
// site's secret: the same secret always gives the same codes, another secret
// gives unrelated ones. A Codec is immutable after NewCodec and safe for
// concurrent use.
type Codec struct {
	round [feistelRounds]uint64
	// The start MAC is HMAC-SHA256 with the key pads precomputed, so
	// ParseStart and Find hash from stack buffers without allocating.
	macInner, macOuter [sha256.BlockSize]byte

	// Check targets per number of data symbols (see check.go).
	tokenTarget [maxTokenLen - 1]uint8
	emojiTarget [maxEmojiLen - 1]uint8

	tokenValue [256]uint8       // byte -> symbol value, noSymbol if none
	emojiValue [emojiSpan]uint8 // rune-emojiBase -> symbol value, noSymbol if none
}

// noSymbol marks a byte or rune outside an alphabet in the decode tables.
const noSymbol = 0xFF

// NewCodec returns the Codec for a site secret of at least MinSecretLen
// bytes. The secret must stay the same for as long as the site's visits
// live: a new secret makes the old codes unreadable.
func NewCodec(secret []byte) (*Codec, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("ids.NewCodec: %w", ErrSecretTooShort)
	}
	c := &Codec{}
	perm := derive(secret, "messtrack/ids/feistel/v1")
	for i := range c.round {
		// 8 rounds need 64 bytes of key; stretch the 32 derived bytes by
		// deriving a second block from the first.
		if i == 4 {
			perm = derive(perm[:], "messtrack/ids/feistel/v1/more")
		}
		c.round[i] = binary.BigEndian.Uint64(perm[(i%4)*8:])
	}
	mac := derive(secret, "messtrack/ids/start/v1")
	for i := range c.macInner {
		c.macInner[i] = 0x36
		c.macOuter[i] = 0x5c
	}
	for i, b := range mac {
		c.macInner[i] ^= b
		c.macOuter[i] ^= b
	}
	check := derive(secret, "messtrack/ids/check/v1")
	gf32.checkTargets(c.tokenTarget[:], check[:16])
	gf64.checkTargets(c.emojiTarget[:], check[16:])
	c.buildTables()
	return c, nil
}

// derive gives a 32-byte subkey of the secret for one purpose, so the
// permutation key and the MAC key never coincide.
func derive(secret []byte, label string) [32]byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	var k [32]byte
	m.Sum(k[:0])
	return k
}

func (c *Codec) buildTables() {
	for i := range c.tokenValue {
		c.tokenValue[i] = noSymbol
	}
	for i := 0; i < len(tokenAlphabet); i++ {
		c.tokenValue[tokenAlphabet[i]] = uint8(i)
		c.tokenValue[tokenAlphabet[i]|0x20] = uint8(i) // lower case; digits are unchanged by |0x20
	}
	// The confusions people make when copying by hand or by eye.
	for _, p := range [...]struct {
		b byte
		v uint8
	}{{'O', 0}, {'o', 0}, {'I', 1}, {'i', 1}, {'L', 1}, {'l', 1}} {
		c.tokenValue[p.b] = p.v
	}
	for i := range c.emojiValue {
		c.emojiValue[i] = noSymbol
	}
	for i, r := range emojiRunes() {
		c.emojiValue[r-emojiBase] = uint8(i)
	}
}

// Number maps a site's visit counter (1, 2, 3, ... as INCR returns it) to
// the number its codes carry. The counter is first wrapped into 1..Cycle,
// then permuted within its length tier by a Feistel network keyed by the
// site secret: consecutive visits get unrelated codes, but a number needs
// more symbols only when the counter does (counters up to 720,896 give
// tokens of 4 data symbols, up to 23,789,568 five, up to Cycle six). Number
// never returns 0 and is a bijection on 1..Cycle, so codes stay unique for
// Cycle visits.
func (c *Codec) Number(counter uint64) uint64 {
	v := counter % Cycle
	if v == 0 {
		v = Cycle
	}
	l, base := tokenTier(v)
	size := tierSize(l)
	width := uint(bits.Len64(size - 1))
	width += width & 1
	// Cycle-walking: apply the permutation of 0..2^width-1 to the offset in
	// the tier until it falls back inside the tier. The walk stays on the
	// cycle through the start, so it ends, and the restriction to the tier
	// is itself a bijection.
	x := v - base
	for {
		x = c.permute(x, width)
		if x < size {
			return base + x
		}
	}
}

// permute is a balanced Feistel network on width bits (width even, <= 64).
func (c *Codec) permute(x uint64, width uint) uint64 {
	half := width / 2
	mask := uint64(1)<<half - 1
	l, r := x>>half, x&mask
	for i, k := range c.round {
		// Width and round number enter the round function so that tiers
		// and rounds never share a function.
		f := mix(r ^ k ^ uint64(width)<<56 ^ uint64(i)<<48)
		l, r = r, l^(f&mask)
	}
	return l<<half | r
}

// mix is the SplitMix64 finaliser: a fast bijective mixer of 64 bits.
func mix(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// minDataLen is the fewest data symbols of a token or emoji code; shorter
// codes would make a random word too likely to check.
const minDataLen = 4

// tierLetters is the number of letters a token can start with: the first
// data symbol is always one of the 22 letters of the alphabet, so no token
// is all digits and "#" + an order number never reads as a code.
const tierLetters = 22

// tierSize is how many numbers have tokens of l data symbols: a letter then
// l-1 symbols. For l = 13 the true size exceeds 64 bits; it is capped,
// which is harmless because no uint64 lies beyond that tier.
func tierSize(l int) uint64 {
	if l >= 13 {
		return ^uint64(0)
	}
	return tierLetters << (5 * (l - 1))
}

// tokenTier returns the number of data symbols of n's token (n >= 1) and
// the first number with that many.
func tokenTier(n uint64) (l int, base uint64) {
	base = 1
	for l = minDataLen; l < 13; l++ {
		if n-base < tierSize(l) {
			return l, base
		}
		base += tierSize(l)
	}
	return l, base
}

// tokenDataLen is the number of data symbols of n's token.
func tokenDataLen(n uint64) int {
	l, _ := tokenTier(n)
	return l
}

// emojiDataLen is the number of base-64 data symbols of n's emoji code.
func emojiDataLen(n uint64) int {
	return max(minDataLen, (bits.Len64(n)+5)/6)
}
