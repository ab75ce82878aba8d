// Package ids mints and finds visit codes: the short text token, the emoji
// run, the Telegram start parameter and the invisible zero-width form, all
// over one allocated visit number. It imports nothing else of messtrack.
package ids
