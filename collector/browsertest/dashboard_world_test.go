package browsertest

import (
	"testing"

	"github.com/messtrack/messtrack/collector/collectortest"
	"github.com/messtrack/messtrack/reports"
)

// dashWorld is the test world of the dashboard (collectortest's), as the
// collector's own dashboard tests build it: a collector whose matcher hands
// its facts to its reports.Store, the reports' generated fixture replayed
// into that store, and chats made through the matcher, a few of them
// carrying hostile strings.
type dashWorld struct {
	*testWorld
	reports *reports.Store
	// Chats made through the matcher.
	matchedChat, hostileChat, unmatchedChat string
	// candidateVisits are the unmatched chat's candidates.
	candidateVisits []string
}

func newDashWorld(t testing.TB) *dashWorld {
	t.Helper()
	w := &dashWorld{testWorld: newTestWorldAt(t, collectortest.FixtureStart)}
	// The server hands the matcher's facts to this store and fills chat
	// records' sessions from it.
	w.reports = w.probe.Reports()
	collectortest.ReplayFixture(t, w.reports, w.clock)
	chats := collectortest.MakeDashChats(t, w.srv.App(), w.probe, w.reports, w.clock)
	w.matchedChat, w.hostileChat, w.unmatchedChat = chats.Matched, chats.Hostile, chats.Unmatched
	w.candidateVisits = chats.Candidates
	return w
}
