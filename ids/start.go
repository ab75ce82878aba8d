package ids

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math/bits"
	"strings"
)

// A start payload is base64url, without padding, of the number in as few
// big-endian bytes as it needs followed by a 6-byte MAC: the first 48 bits
// of HMAC-SHA256 over the number as 8 bytes, keyed by a key derived from
// the site secret. That is 10 characters for numbers below 2^8, 14 for the
// whole code space (below 2^32), 19 at most, well inside Telegram's 64
// characters of [A-Za-z0-9_-]. Without the site secret a valid payload for
// another number is a 1 in 2^48 guess; a payload of one site fails on
// every other site.
const startMACLen = 6

// maxStartLen is the longest payload ParseStart considers: 8+6 bytes.
const maxStartLen = (8+startMACLen)*8/6 + 1

// Start returns n's Telegram start payload, for t.me/BOT?start=PAYLOAD;
// "" for 0.
func (c *Codec) Start(n uint64) string {
	if n == 0 {
		return ""
	}
	var raw [8 + startMACLen]byte
	nb := max(1, (bits.Len64(n)+7)/8)
	binary.BigEndian.PutUint64(raw[:8], n)
	copy(raw[:], raw[8-nb:8])
	mac := c.startMAC(n)
	copy(raw[nb:], mac[:])
	return base64.RawURLEncoding.EncodeToString(raw[:nb+startMACLen])
}

// ParseStart reads a start payload (the text after "/start "), accepting
// only payloads minted by this Codec: a changed character, another site's
// payload or a made-up one is an error.
func (c *Codec) ParseStart(p string) (uint64, error) {
	n, err := c.decodeStart(strings.TrimSpace(p))
	if err != nil {
		return 0, fmt.Errorf("ids.ParseStart: %w", err)
	}
	return n, nil
}

func (c *Codec) decodeStart(p string) (uint64, error) {
	if p == "" {
		return 0, ErrEmpty
	}
	if len(p) > maxStartLen || len(p)%4 == 1 {
		return 0, ErrLength
	}
	var raw [8 + startMACLen + 1]byte
	var acc uint32
	var nacc uint
	nraw := 0
	for i := 0; i < len(p); i++ {
		v := startValue(p[i])
		if v == noSymbol {
			return 0, ErrSymbol
		}
		acc = acc<<6 | uint32(v)
		nacc += 6
		if nacc >= 8 {
			nacc -= 8
			raw[nraw] = byte(acc >> nacc)
			nraw++
		}
	}
	nb := nraw - startMACLen
	if nb < 1 || nb > 8 {
		return 0, ErrLength
	}
	if acc&(1<<nacc-1) != 0 {
		return 0, ErrNotCanonical // stray low bits: not what the encoder writes
	}
	var n uint64
	for _, b := range raw[:nb] {
		n = n<<8 | uint64(b)
	}
	if (nb > 1 && raw[0] == 0) || n == 0 {
		return 0, ErrNotCanonical
	}
	mac := c.startMAC(n)
	if !hmac.Equal(mac[:], raw[nb:nraw]) {
		return 0, ErrForged
	}
	return n, nil
}

// startValue maps a base64url character to its value.
func startValue(b byte) uint8 {
	switch {
	case b >= 'A' && b <= 'Z':
		return b - 'A'
	case b >= 'a' && b <= 'z':
		return b - 'a' + 26
	case b >= '0' && b <= '9':
		return b - '0' + 52
	case b == '-':
		return 62
	case b == '_':
		return 63
	}
	return noSymbol
}

// startMAC is HMAC-SHA256(key, n as 8 bytes) cut to startMACLen bytes,
// computed from the precomputed key pads on stack buffers.
func (c *Codec) startMAC(n uint64) [startMACLen]byte {
	var in [sha256.BlockSize + 8]byte
	copy(in[:], c.macInner[:])
	binary.BigEndian.PutUint64(in[sha256.BlockSize:], n)
	inner := sha256.Sum256(in[:])
	var out [sha256.BlockSize + sha256.Size]byte
	copy(out[:], c.macOuter[:])
	copy(out[sha256.BlockSize:], inner[:])
	sum := sha256.Sum256(out[:])
	var mac [startMACLen]byte
	copy(mac[:], sum[:])
	return mac
}
