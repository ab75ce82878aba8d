package ids

import "errors"

// The sentinel errors of package ids. Callers test them with errors.Is; the
// functions wrap them with the operation that failed, so a message reads like
// "ids.ParseVisitID: check symbols do not match". None of them carries the
// offending input: codes come from strangers and may hold control characters.
var (
	// ErrSecretTooShort: NewCodec needs at least MinSecretLen bytes of site
	// secret, or the keyed permutation and the start MAC would be guessable.
	ErrSecretTooShort = errors.New("site secret shorter than 16 bytes")

	// ErrUnknownStyle: the site's id_format is none of "token", "emoji",
	// "invisible+token", "invisible+emoji".
	ErrUnknownStyle = errors.New("unknown id format")

	// ErrEmpty: there is nothing to parse (only spaces or a bare '#').
	ErrEmpty = errors.New("empty code")

	// ErrLength: the code has a length no code has; typically a truncated
	// code, extra symbols typed into it, or a code pasted twice.
	ErrLength = errors.New("code has the wrong length")

	// ErrSymbol: a character outside the format's alphabet (for tokens, U and
	// punctuation; for start payloads, anything outside [A-Za-z0-9_-]).
	ErrSymbol = errors.New("character outside the code alphabet")

	// ErrCheck: the check symbols do not match the data, so the code was
	// edited or mistyped. Guessing the intended code is deliberately not
	// attempted: a visit ID comes back exactly or not at all.
	ErrCheck = errors.New("check symbols do not match")

	// ErrNotCanonical: the symbols spell a number in a form the encoder never
	// writes (the number 0, or a number padded to a longer length than it
	// needs). Rejecting these keeps one spelling per number.
	ErrNotCanonical = errors.New("code is not in canonical form")

	// ErrForged: a start payload whose MAC does not verify under this site's
	// secret: forged, altered, or minted for another site.
	ErrForged = errors.New("start payload not minted by this site")
)
