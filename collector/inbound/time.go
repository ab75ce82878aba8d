package inbound

import "time"

// FutureSkew is how far ahead of the collector's clock a message's own time
// is still believed: a platform's or a sender's clock a little fast.
const FutureSkew = 5 * time.Minute

// Time is the one rule for the time every inbound message (WhatsApp,
// Telegram, the messages API) is filed under: the time the platform gives,
// unless it is missing or more than FutureSkew ahead of received, the
// moment the collector got the message; then received. A time far ahead
// would file the chat, its conversation and its session in the future, out
// of every report until then.
//
// ignored is the platform's time when it was not used, zero otherwise; the
// chat's history keeps it, so an operator sees what the platform sent.
func Time(platform, received time.Time) (at, ignored time.Time) {
	received = received.UTC()
	if platform.IsZero() || platform.Unix() <= 0 {
		return received, time.Time{}
	}
	if platform.After(received.Add(FutureSkew)) {
		return received, platform.UTC()
	}
	return platform.UTC(), time.Time{}
}

// PlatformTimeText is the history's form of a platform time Time did not
// use, or "".
func PlatformTimeText(ignored time.Time) string {
	if ignored.IsZero() {
		return ""
	}
	return ignored.UTC().Format(time.RFC3339)
}
