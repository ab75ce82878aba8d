package ledger

import "time"

// At is a record's stored Unix-millisecond time as an instant; 0, which
// the records use for "unknown", is the zero time.
func At(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// Stamp is a record's stored Unix-millisecond time as RFC 3339 text, as the
// API and the history show it; "" for 0.
func Stamp(ms int64) string {
	if ms == 0 {
		return ""
	}
	return time.UnixMilli(ms).UTC().Format(time.RFC3339)
}
