package ids

import (
	"fmt"
	"strconv"
)

// Format names one of the four ways a visit number is written.
type Format int

// The formats. The zero Format is deliberately none of them, so a Found or a
// CodeStyle that was never filled in cannot pass for a token.
const (
	// Token is the short text code after a '#', e.g. "#K7Q2M9".
	Token Format = iota + 1
	// Emoji is a run of emoji from the fixed 64-symbol alphabet.
	Emoji
	// Start is the Telegram bot start parameter (t.me/BOT?start=PAYLOAD).
	Start
	// Invisible is a run of zero-width characters placed before a token or
	// emoji code.
	Invisible
)

// String returns the lower-case name of the format as used in config and
// JSON ("token", "emoji", "start", "invisible").
func (f Format) String() string {
	switch f {
	case Token:
		return "token"
	case Emoji:
		return "emoji"
	case Start:
		return "start"
	case Invisible:
		return "invisible"
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// CodeStyle is a site's id_format: which visible code goes into the
// prefilled message and whether invisible characters travel with it. The
// zero CodeStyle is "token", the default of the site config.
type CodeStyle struct {
	emoji     bool
	invisible bool
}

// ParseCodeStyle reads a site's id_format: "token", "emoji",
// "invisible+token" or "invisible+emoji" (exactly, as in the config file).
func ParseCodeStyle(s string) (CodeStyle, error) {
	switch s {
	case "token":
		return CodeStyle{}, nil
	case "emoji":
		return CodeStyle{emoji: true}, nil
	case "invisible+token":
		return CodeStyle{invisible: true}, nil
	case "invisible+emoji":
		return CodeStyle{emoji: true, invisible: true}, nil
	}
	return CodeStyle{}, fmt.Errorf("ids.ParseCodeStyle: %w (want token, emoji, invisible+token or invisible+emoji)", ErrUnknownStyle)
}

// String returns the id_format spelling that ParseCodeStyle reads back.
func (s CodeStyle) String() string {
	v := s.Visible().String()
	if s.invisible {
		return "invisible+" + v
	}
	return v
}

// Visible returns the visible format of the style: Token or Emoji.
func (s CodeStyle) Visible() Format {
	if s.emoji {
		return Emoji
	}
	return Token
}

// Invisible reports whether the style adds the invisible form in front of
// the visible code.
func (s CodeStyle) Invisible() bool { return s.invisible }
