package store

import (
	"strconv"
	"strings"
)

// Every Redis key messtrack uses is built here, so that the whole keyspace can
// be read in one place. Each builder says the key's type, its TTL and who
// writes it.
//
// All keys of one site carry the site's name as a hash tag ("{demo}") so that
// the multi-key Lua scripts, which always touch keys of a single site, run on
// one Redis Cluster slot. A site is therefore the unit of sharding: many sites
// spread over a cluster, one site's traffic stays on one node.
//
// Site names are validated by the config loader ([a-z0-9_-]) and never hold
// ':' or braces; free-form parts (chat keys, Telegram usernames) are escaped by
// part().

const prefix = "mt:"

// part makes a free-form value safe inside a key: braces would move the hash
// slot and ':' would blur the key's structure.
func part(s string) string {
	if !strings.ContainsAny(s, "{}:% ") {
		return s
	}
	r := strings.NewReplacer("%", "%25", "{", "%7B", "}", "%7D", ":", "%3A", " ", "%20")
	return r.Replace(s)
}

func siteKey(site string, rest ...string) string {
	var b strings.Builder
	b.Grow(len(prefix) + len(site) + 3 + 16*len(rest))
	b.WriteString(prefix)
	b.WriteByte('{')
	b.WriteString(site)
	b.WriteByte('}')
	for _, r := range rest {
		b.WriteByte(':')
		b.WriteString(r)
	}
	return b.String()
}

// SiteTag returns the hash tag of a site's keys, "{site}". Lua scripts use it
// to build keys of the same slot at run time.
func SiteTag(site string) string { return "{" + site + "}" }

// --- sites -----------------------------------------------------------------

// Secret is a STRING holding the site's random code secret (keys the visit-ID
// bijection and the Telegram start MAC). No TTL. Written once with SETNX by
// the collector at start when the config sets no id_secret.
func Secret(site string) string { return siteKey(site, "secret") }

// --- collector: visits and clicks ------------------------------------------

// VisitSeq is a STRING counter of the site's visits, INCRed by the collector
// for each new visit. No TTL: it only grows; ids.Codec.Number wraps it.
func VisitSeq(site string) string { return siteKey(site, "vseq") }

// Visit is a STRING holding one visit in the collector's compact encoding,
// keyed by the visit's number in code space. TTL: the site's session window
// plus a margin. Written by the collector on POST /v1/visits and QR scans.
func Visit(site string, n uint64) string {
	return siteKey(site, "v", strconv.FormatUint(n, 36))
}

// VisitClick is a STRING holding the visit's last chat click (target, page,
// time) as JSON. TTL: the visit's remaining TTL. Written by the collector on
// POST /v1/clicks; read by the matcher for the page a chat started from.
func VisitClick(site string, n uint64) string {
	return siteKey(site, "vc", strconv.FormatUint(n, 36))
}

// Clicks is a ZSET of the visits that clicked a chat target (a WhatsApp number
// or a Telegram bot or user, "whatsapp:15551234567"), member = visit number in
// base 36, score = click time in Unix milliseconds. No TTL on the key; the
// collector trims members older than the click window on every write and caps
// its length. Read by the heuristic matcher.
func Clicks(site, target string) string { return siteKey(site, "clk", part(target)) }

// --- collector: chats and the matcher --------------------------------------

// --- reports: sessions, events, costs and aggregates ------------------------

// --- dashboard: operators' sign-in sessions ---------------------------------

// DashboardSession is a STRING holding one signed-in dashboard session as
// JSON (its CSRF token, when it started, when it expires), keyed by the
// SHA-256 of the session cookie's secret, so that reading Redis never yields a
// usable cookie. TTL: the session's lifetime (12 hours), set again on sign-in
// only. Written by the collector's dashboard on sign-in, deleted on sign-out.
func DashboardSession(site, secretHash string) string {
	return siteKey(site, "dash", "sess", part(secretHash))
}

// DashboardSignInFailures is a STRING counter of failed dashboard sign-ins
// for the site from one client address; TTL: the lock-out window (15
// minutes) from the first failure. Written (INCR) by the collector's
// dashboard on every wrong key; sign-in is refused while it is at the limit.
func DashboardSignInFailures(site, client string) string {
	return siteKey(site, "dash", "fail", part(client))
}

// --- rate limits -----------------------------------------------------------

// RateLimit is a STRING counter of requests from one client to one endpoint
// group in one fixed window; TTL: the window. Written by the collector's rate
// limiter. The client is the hash tag, so limits of different clients spread
// over a cluster.
func RateLimit(group, client string, window int64) string {
	return prefix + "rl:{" + part(client) + "}:" + group + ":" + strconv.FormatInt(window, 36)
}
