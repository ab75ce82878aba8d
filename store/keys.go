package store

import (
	"strconv"
	"strings"
	"time"
)

// Every Redis key messtrack uses is built here, so that the whole keyspace can
// be read in one place. Each builder says the key's type, its TTL and who
// writes it.
//
// All keys of one site carry the site's name as a hash tag ("{demo}") so that
// the multi-key Lua scripts, which always touch keys of a single site, run on
// one Redis Cluster slot; but for the visit-scoped keys (Visit, VisitClick,
// VisitMatched, VisitChats, VisitTaken, Clicks), which carry the tag of the
// visit's shard, and the chat-scoped keys (Chat, ChatHistory, MessageSeen,
// HeldCode, CodeOpen), which carry the tag of the chat's shard (shards.go);
// both are built by Shards. The site-level builders of the chat-scoped keys
// give the key of a site of one shard. A site of one shard (the default)
// keeps every key under "{site}".
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
	return partEscaper.Replace(s)
}

// partEscaper is built once: a Replacer is immutable and safe for
// concurrent use, and building one per key cost a tenth of the client's CPU
// when loading a million sessions.
var partEscaper = strings.NewReplacer("%", "%25", "{", "%7B", "}", "%7D", ":", "%3A", " ", "%20")

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

// SiteShards is a STRING holding the number of shards a site's visits were
// first stored with (decimal). No TTL. Written with SETNX by the collector
// at the site's first start (CheckShards); every later start refuses a
// config that names another number, since a visit is found by its shard.
func SiteShards(site string) string { return siteKey(site, "shards") }

// --- collector: visits and clicks ------------------------------------------

// VisitSeq is a STRING counter of the site's visits, INCRed by the collector
// for each new visit. No TTL: it only grows; ids.Codec.Number wraps it.
func VisitSeq(site string) string { return siteKey(site, "vseq") }

// Visit is a STRING holding one visit in the collector's compact encoding,
// keyed by the visit's number in code space. TTL: retention.visit_days, by
// default the site's session window plus 7 days. Written by the collector on
// POST /v1/visits and QR scans; deleted with VisitClick, VisitMatched and the
// chat's member of VisitChats by collector/person when a chat matched to it
// is erased.
//
// Tag: the visit's shard (Shards.Of).
func (s Shards) Visit(n uint64) string { return s.visitKey(n, "v") }

// VisitClick is a STRING holding the visit's last chat click (target, page,
// time) as JSON. TTL: the visit's remaining TTL. Written by the collector on
// POST /v1/clicks; read by the matcher for the page a chat started from.
// Tag: the visit's shard.
func (s Shards) VisitClick(n uint64) string { return s.visitKey(n, "vc") }

// Clicks is a ZSET of the visits that clicked a chat target (a WhatsApp number
// or a Telegram bot or user, "whatsapp:15551234567"), member = visit number in
// base 36, score = click time in Unix milliseconds, one ZSET per shard k
// holding the visits of that shard (tag: shard k), so that the click
// script touches one slot. TTL: the match window plus a day, renewed on
// every click; the collector also trims members older than that on every
// write and caps each shard's length. Read by the heuristic matcher, which
// merges the site's shards.
func (s Shards) Clicks(target string, k int) string {
	return siteKey(s.tags[k], "clk", part(target))
}

// --- collector: offline sources --------------------------------------------

// SourceVisit is a STRING holding the number (base 36) of the static visit of
// one offline source, whose code is printed in the source's static QR. No TTL,
// like the visit it names. Written once with SETNX by the collector when a
// static QR is first asked for; read by it for every later one.
func SourceVisit(site, source string) string { return siteKey(site, "src", part(source), "v") }

// --- collector: chats and the matcher --------------------------------------

// Chat is a HASH holding one chat's source record. Fields: "rec" (the record
// as JSON: who wrote, how the current conversation was matched, the source
// and visitor snapshot taken at attribution, the candidates of an unmatched
// chat), "ver" (a counter bumped on every change of "rec", for optimistic
// concurrency), "pending" (a conversation fact not yet handed to reports),
// "last" (last message time, Unix ms) and "msgs" (messages seen). No TTL: a
// chat is the lead itself; reports, repeat-dialog detection and the
// operators' history all need it for as long as the business keeps its
// customers, and its size is bounded (about 1-3 KB). Written by the
// collector's matcher on every inbound message and by the confirm endpoint;
// deleted by collector/person on erasure, and by its retention sweep once
// the chat has been silent for retention.chat_days. Tag: the chat's shard
// (Shards.Chat); this builder is the key of a site of one shard.
func Chat(site, chat string) string { return siteKey(site, "chat", part(chat)) }

// Chat is the chat's record (store.Chat) under the tag of the chat's shard
// (ChatShard); on a site of one shard, store.Chat(site, chat).
func (s Shards) Chat(chat string) string { return siteKey(s.chatTag(chat), "chat", part(chat)) }

// ChatHistory is a LIST of a chat's conversations and contacts, oldest
// first, each a JSON object (time, kind, method, visit). No TTL, like Chat;
// capped at the newest 1000 entries on every push. Written by the matcher;
// entries older than retention.history_days are trimmed by collector/person's
// sweep, and the list is deleted with the chat on erasure. Tag: the chat's
// shard (Shards.ChatHistory).
func ChatHistory(site, chat string) string { return siteKey(site, "chist", part(chat)) }

// ChatHistory is the chat's history (store.ChatHistory) under the tag of
// the chat's shard.
func (s Shards) ChatHistory(chat string) string { return siteKey(s.chatTag(chat), "chist", part(chat)) }

// Chats is a ZSET indexing a site's chats for listing: member = chat key,
// score = first message time in Unix milliseconds (the platform's
// timestamp). No TTL, like Chat. Written by the matcher's commit (only
// ever lowering a score); on a site of several shards, whose chats live
// under other tags, by its index step after the chat is stored. The member
// is removed by collector/person on erasure. Tag: the site's own, always.
func Chats(site string) string { return siteKey(site, "chats") }

// MessageSeen is a STRING marking an inbound message, notice or update as
// processed ("wa:<wamid>", "tg:<bot>:<update_id>", "msg:<channel>:<id>" for
// the generic API's id), so that redeliveries are processed once. TTL: 8 days, beyond WhatsApp's retry period. Written by
// the matcher in the same script that stores the message's effect, so a
// failed store never marks a message seen. Tag: the shard of the message's
// chat (Shards.MessageSeen).
func MessageSeen(site, id string) string { return siteKey(site, "seen", part(id)) }

// MessageSeen is the seen mark (store.MessageSeen) of a message of the
// chat, under the tag of the chat's shard: the chat commit writes it with
// the chat's record.
func (s Shards) MessageSeen(chat, id string) string {
	return siteKey(s.chatTag(chat), "seen", part(id))
}

// HeldCode is a STRING holding a hidden code that arrived before its chat's
// first message (Viber's conversation_started context), for that chat's
// next message. TTL: HeldCodeTTL. Written by the collector's messenger
// webhooks before they answer; read and deleted when the chat's next
// message is stored; deleted by collector/person when the chat is erased.
// Tag: the chat's shard (Shards.HeldCode).
func HeldCode(site, chat string) string { return siteKey(site, "held", part(chat)) }

// HeldCode is the chat's held code (store.HeldCode) under the tag of the
// chat's shard.
func (s Shards) HeldCode(chat string) string { return siteKey(s.chatTag(chat), "held", part(chat)) }

// HeldCodeTTL is how long a held code waits for the chat's next message.
const HeldCodeTTL = 7 * 24 * time.Hour

// VisitMatched is a STRING "<kind>|<chat>": the first chat a visit was
// attributed to and how (f a code, c an operator's confirmation, h a
// heuristic guess), so that the heuristic never takes a matched visit. TTL:
// the site's visit TTL (the visit cannot be matched after it expires anyway).
// Written by the chat commit script (on a site of several shards, by its
// claim step on the visit's shard), for messages and confirmations. Tag:
// the visit's shard.
func (s Shards) VisitMatched(n uint64) string { return s.visitKey(n, "vm") }

// VisitTaken is a STRING "<chat>|<guessing chat>": the chat whose code or
// confirmation took the visit from another chat's heuristic guess, and that
// other chat, so that a commit retried after its claim step (a conflict, a
// stop, a platform's redelivery) still learns whose guess to revoke. TTL:
// the claim's, at most the seen marks' 8 days (how long a redelivery is
// recognised). Written only on sites of several shards, by the ledger's
// claim script; deleted by the collector once the guess is revoked, and
// with the visit by collector/person. Tag: the visit's shard.
func (s Shards) VisitTaken(n uint64) string { return s.visitKey(n, "vt") }

// VisitChats is a SET of the chats a visit was firmly matched to (its code,
// an operator's confirmation): one page view may start a WhatsApp and a
// Telegram chat, or chats from two phones. TTL: the site's visit TTL. Written
// by the chat commit script (its claim step on a site of several shards).
// Tag: the visit's shard.
func (s Shards) VisitChats(n uint64) string { return s.visitKey(n, "vchats") }

// --- reports: sessions, events, costs and aggregates ------------------------

// Every reports key lives under "mt:{site}:r:", so the reports' keyspace
// reads (and scans) as one part.
//
// Report aggregates are kept per site, per dimension and per period, where a
// period is a day ("2026-11-02", in the site's time zone), a block of a month
// ("2026-11-b1" days 1-10, "-b2" days 11-20, "-b3" day 21 to the end) or a
// month ("2026-11"), each holding the sum of its days: a report over a range
// reads whole months and blocks where it can and days at its edges, so a
// 90-day report reads about 15 hashes, not 90. The Lua scripts in reports
// build these keys at run time from ReportAggPrefix and ReportCostPrefix
// (same {site} slot), so the layout below is the contract between this file
// and reports/scripts.go.

// ReportAggPrefix is the common prefix of ReportAgg keys; reports' Lua
// scripts append "<dim>:<period>".
func ReportAggPrefix(site string) string { return siteKey(site, "r", "ag") + ":" }

// ReportAgg is a HASH of counters for one dimension of one site in one period
// (a day YYYY-MM-DD, a block YYYY-MM-bN or a month YYYY-MM). dim is "ad" (ad ID), "ch" (channel
// and source), "pg" (page the chat link was clicked on), "ld" (landing page)
// or "dl" (new/repeat dialog). Fields are "<metric>:<member>": "cv"
// conversations started (unattributed ones included, under the member
// "unattributed"), "k:<category>" conversions under that conversion category
// (their sum is the conversions), "rv" revenue in thousandths of the
// currency.
// Conversions and revenue are added to the periods of the session's start.
// No TTL: reports read any past range. Written only by reports' Lua scripts
// (HINCRBY), day, block and month together.
func ReportAgg(site, dim, period string) string {
	return ReportAggPrefix(site) + dim + ":" + period
}

// ReportCostPrefix is the common prefix of ReportCost keys; reports' cost
// script appends "<period>".
func ReportCostPrefix(site string) string { return siteKey(site, "r", "cost") + ":" }

// ReportCost is a HASH of one period's ad costs (a day YYYY-MM-DD, a block
// YYYY-MM-bN or a month YYYY-MM, as for ReportAgg): fields "c:<ad>" cost in
// thousandths of the currency, "r:<ad>" reach (a block or month holds the
// sum of daily reach), "n:<ad>" the number of days with a row (1 in a day).
// No TTL. This unversioned name is the period's data only while
// ReportCostVersions holds no version for it (data written before cost
// uploads were versioned); readers go through ReportCostAt.
func ReportCost(site, period string) string { return ReportCostPrefix(site) + period }

// ReportCostAt is the ReportCost HASH of one period at version ver ("" is
// the unversioned ReportCost key): "<ReportCost>@<ver>". A cost upload
// writes new versions in bounded batches with a TTL of an hour (staging: a
// crashed upload leaves nothing behind), then its commit script points
// ReportCostVersions at them all at once, removes their TTL and unlinks the
// versions they replace. Readers resolve versions and read the hashes in one
// read-only script, so a report sees an upload whole or not at all.
func ReportCostAt(site, period, ver string) string {
	if ver == "" {
		return ReportCost(site, period)
	}
	return ReportCost(site, period) + "@" + ver
}

// ReportCostVersions is a HASH of the current version of each cost period:
// "<period>" -> version (base 36) of its ReportCostAt and, for a day, of its
// ReportDeliveryAt. A period without a field is read from its unversioned
// keys. No TTL. Written only by reports' cost commit script.
func ReportCostVersions(site string) string { return siteKey(site, "r", "costv") }

// ReportCostSeq is a STRING counter handing out cost versions (INCR). No
// TTL. Written by reports' cost upload.
func ReportCostSeq(site string) string { return siteKey(site, "r", "costseq") }

// ReportCostLock is a STRING holding the random token of the cost upload
// running for the site (SET NX PX, one minute, renewed by each batch), so
// that uploads of one site run one after another; the commit script checks
// versions too, so an upload that lost its lock cannot overwrite another's.
func ReportCostLock(site string) string { return siteKey(site, "r", "costlock") }

// ReportDeliveryPrefix is the common prefix of ReportDelivery keys; reports'
// cost script appends the day.
func ReportDeliveryPrefix(site string) string { return siteKey(site, "r", "dlv") + ":" }

// ReportDelivery is a HASH of one day's ad delivery beside its cost:
// "i:<ad>" impressions, "k:<ad>" clicks. Kept apart from ReportCost so that
// the ads report reads only what it shows. No TTL. Written by reports' cost
// upload with the day's costs, versioned with them (ReportDeliveryAt).
func ReportDelivery(site, day string) string { return ReportDeliveryPrefix(site) + day }

// ReportDeliveryAt is the ReportDelivery HASH of one day at version ver (""
// is the unversioned key), with the same version, TTL and commit as the
// day's ReportCostAt.
func ReportDeliveryAt(site, day, ver string) string {
	if ver == "" {
		return ReportDelivery(site, day)
	}
	return ReportDelivery(site, day) + "@" + ver
}

// ReportRangeReach is a HASH of each ad's deduplicated reach over exactly the
// range from..to (YYYY-MM-DD), as the ad platform counts it: ad ID -> reach.
// No TTL. Written by `messtrack costs sync`, read by the ads report when its
// range is exactly this one.
func ReportRangeReach(site, from, to string) string {
	return siteKey(site, "r", "reach", from+"_"+to)
}

// ReportAdInfo is a HASH of each ad's last seen title and type: ad ID ->
// "<unix ms>\x1f<type>\x1f<title>"; the time makes a late fact unable to
// overwrite a newer title. No TTL. Written by reports' Lua scripts from
// conversations and cost rows.
func ReportAdInfo(site string) string { return siteKey(site, "r", "adinfo") }

// ReportChat is a STRING holding one chat's attribution facts as JSON: its
// conversations (start, method, dimension members, what each adds to the
// aggregates now) and the business events that could convert them (see
// reports/scripts.go). A value written by earlier versions is a JSON array of
// sessions; the scripts read both. TTL: the session window plus 30 days,
// renewed on each write; after that no session of the chat can convert.
// Written by reports' conversation, event and recount scripts. When the
// chat's person is erased, collector/person renames it to
// ReportChat(site, ErasedChat(...)), keeping its TTL, so the aggregates and
// a recount stay the same while no key names the person.
func ReportChat(site, chat string) string { return siteKey(site, "r", "cs", part(chat)) }

// ReportChatPattern matches every ReportChat key of a site, for recounting
// and for the full-scan check that benchmarks run against the aggregates.
func ReportChatPattern(site string) string { return siteKey(site, "r", "cs") + ":*" }

// ReportSessionSeq is a STRING counter of a site's sessions; its values are
// session IDs. No TTL. INCRed by reports' conversation script.
func ReportSessionSeq(site string) string { return siteKey(site, "r", "sseq") }

// ReportConversionEvents is a ZSET, the history of the site's conversion
// event: member "<unix ms>:<category>", score = unix ms from which the
// category is in force. No TTL. The config's conversion_event is the first
// member, at score -1e15 (in force for all history), written when the site
// is first seen; later ones by SetConversionEvent, or at a start whose config
// names another category than the start before.
func ReportConversionEvents(site string) string { return siteKey(site, "r", "convev") }

// ReportConversionConfig is a STRING, the conversion_event the config named
// at the last start ("" for none), so that a start can tell a changed config
// from an operator's later choice. No TTL. Written by
// reports.Store.ApplyConfiguredConversionEvents.
func ReportConversionConfig(site string) string { return siteKey(site, "r", "convcfg") }

// ReportSeen is a STRING marking a fact already counted: kind "e" for an
// event that was stored (by its ID, or by its content when it has none).
// Kind "u" markers (an unattributed conversation, by chat and time) were
// written by earlier versions; the scripts read them once and recount folds
// them in. TTL: the session window plus 30 days. Written with SET NX by
// reports' event script.
func ReportSeen(site, kind, id string) string { return siteKey(site, "r", "seen", kind, part(id)) }

// --- personal data: erasure and retention -----------------------------------

// PersonSalt is a STRING holding the site's random salt for the hashes that
// name an erased person in the audit list and in the reports state kept
// after an erasure, and the chat's OutboundErased marker. No TTL. Written
// once with SETNX by collector/outbound's PersonSalt, at a site's first
// erasure (collector/person) or first routing of outbound events.
func PersonSalt(site string) string { return siteKey(site, "ps", "salt") }

// PersonAudit is a LIST of the site's erasures, oldest first, each a JSON
// object: time, the salted hash of the chat key, why (a request or
// retention) and how many keys of each kind were erased; no personal data.
// No TTL; capped at the newest 100000 entries. Written by collector/person's
// erase script, in the same step as the erasure.
func PersonAudit(site string) string { return siteKey(site, "ps", "audit") }

// PersonSweep is a HASH holding where the retention sweep stands: "pos" the
// rank in the chat index (store.Chats) it goes on from. No TTL. Written by
// collector/person's Sweep.
func PersonSweep(site string) string { return siteKey(site, "ps", "sweep") }

// ErasedChat is the name reports' per-chat state (ReportChat) and legacy
// markers (ReportSeen "u") take after the chat's person was erased:
// "erased:<salted hash>.<suffix>", so the facts stay counted (and a recount
// counts them again) while no key names the person.
func ErasedChat(hash, suffix string) string { return "erased:" + hash + "." + suffix }

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

// SendBackCount is a STRING counter of send-back requests of one kind in one
// fixed window: kind "v" per visit (subject the visit number, window 0, TTL
// the visit's life), "ip" per client address an hour, "n" per number a day
// (subject a keyed hash of the number, never the number), "s" per site an hour
// (subject ""), "chk" number checks per client address a minute. TTL: the
// window. Written by collector/sendback in one script over a site's keys.
func SendBackCount(site, kind, subject string, window int64) string {
	return siteKey(site, "sb", kind, part(subject), strconv.FormatInt(window, 36))
}

// ReportSeenPattern matches every ReportSeen key of one kind of a site; Unpart
// turns the last part of such a key back into the ID it was built from.
func ReportSeenPattern(site, kind string) string { return siteKey(site, "r", "seen", kind) + ":*" }

// Unpart reverses the escaping that keys apply to free-form values.
func Unpart(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	return partUnescaper.Replace(s)
}

var partUnescaper = strings.NewReplacer("%25", "%", "%7B", "{", "%7D", "}", "%3A", ":", "%20", " ")

// --- data format -------------------------------------------------------------

// Format is a STRING holding the data format version of everything under
// "mt:" (FormatVersion when this binary wrote it). No TTL. Written by serve
// with SET NX at the first start on an empty store, and after each upgrade
// from an earlier format; read at every start, so that a binary never reads
// data in a format newer than it knows. A store without this key that holds
// other "mt:" keys was written before the key existed: format 1.
func Format() string { return prefix + "format" }

// FormatUpgrade is a HASH recording an upgrade under way so that a stopped
// upgrade resumes where it was: "to" the format being reached, "cursor" the
// upgrade step's position (opaque to store), "done" items looked at so far.
// No TTL; deleted when the upgrade finishes. Written by serve between
// batches.
func FormatUpgrade() string { return prefix + "format:upgrade" }

// ReportCodes is a HASH of the code-survival counters of one site in one
// period (a day, a block or a month, as for ReportAgg). Fields are
// "<dim>:<metric>:<member>": dim f (code format), t (message template key),
// l (browser language), d (device), c (channel), p (page of the click);
// metric k first chat clicks of visits, kp/ed/dl first messages of
// conversations linked to a clicked visit whose code came back kept,
// edited or deleted, ul first messages linked to no visit (format only),
// h<i> click-to-message times in log-spaced bucket i. Counted on the
// click's day. No TTL. Written by reports.Store.RecordCodes (HINCRBY,
// day, block and month in one pipeline). Not derived from ReportChat's
// facts, so reports.Store.Recount leaves it untouched.
func ReportCodes(site, period string) string { return siteKey(site, "r", "cd", period) }

// CodeOpen is a STRING holding, as JSON, how a chat's current
// conversation's first message was counted in ReportCodes (outcome,
// format, the visit's dimensions when linked), so that an operator's
// confirmation or a revoked guess moves the count. TTL: the visit TTL.
// Written by collector/codes on a conversation's first message; deleted
// with the chat by collector/person. Tag: the chat's shard
// (Shards.CodeOpen).
func CodeOpen(site, chat string) string { return siteKey(site, "cdo", part(chat)) }

// CodeOpen is the chat's open code note (store.CodeOpen) under the tag of
// the chat's shard.
func (s Shards) CodeOpen(chat string) string { return siteKey(s.chatTag(chat), "cdo", part(chat)) }

// --- data exchange: outbound deliveries --------------------------------------

// OutboundEvents is a STREAM, the inbox of a site's outbound events: fields
// "id", "type", "chat", "time" (Unix ms), "data" (JSON). Consumer group
// "route" (collector/outbound) reads it and turns each entry into one
// delivery per target, acknowledging and deleting the entry in the same
// script; entries a stopped collector had read are claimed with XAUTOCLAIM.
// No TTL; entries live until routed. Written (XADD) by
// collector/outbound's Enqueue.
func OutboundEvents(site string) string { return siteKey(site, "out", "in") }

// OutboundEventSeen is a STRING marking an event the router derived from a
// chat's sessions (session.converted, session.closed) as routed, so that it
// goes once however often it is derived again. TTL: the site's
// delivery_days (at least two days). Written with SET NX by
// collector/outbound's route script.
func OutboundEventSeen(site, id string) string { return siteKey(site, "out", "seen", part(id)) }

// OutboundDelivery is a HASH, one delivery of an event to one target:
// "type", "event", "target", "lane", "chat", "time", "created", "body",
// "state" (pending, delivered, dead), "attempts", "next", "error",
// "status", "done". TTL: none while pending; the site's delivery_days once
// delivered or dead. Written by collector/outbound's route, finish and
// replay scripts.
func OutboundDelivery(site, id string) string { return siteKey(site, "out", "d", part(id)) }

// OutboundLanePrefix is the prefix of a site's OutboundLane keys; Lua
// scripts append a lane name (OutboundLaneName) to it.
func OutboundLanePrefix(site string) string { return siteKey(site, "out", "lane") + ":" }

// OutboundLaneName is the name of one target's lane for one chat:
// "<target>:<chat escaped>". It is the member of OutboundDue.
func OutboundLaneName(target, chat string) string { return part(target) + ":" + part(chat) }

// OutboundLane is a LIST of the delivery IDs of one target and one chat,
// oldest first: only its head is attempted, so one chat's deliveries
// arrive in order. No TTL; emptied as deliveries finish. Written by
// collector/outbound's route, finish and replay scripts.
func OutboundLane(site, lane string) string { return OutboundLanePrefix(site) + lane }

// OutboundDue is a ZSET of a site's lanes with work: member the lane name,
// score the Unix ms its head is due (a claimed lane is pushed a lease
// ahead, so a stopped collector's lanes come due again). No TTL. Written by
// collector/outbound's scripts.
func OutboundDue(site string) string { return siteKey(site, "out", "due") }

// OutboundLeases is a HASH of claimed lanes: lane name -> the claiming
// worker's token, so a late finish of a lease another worker took over
// changes nothing. No TTL; fields removed on finish. Written by
// collector/outbound's claim and finish scripts.
func OutboundLeases(site string) string { return siteKey(site, "out", "lease") }

// OutboundIndex is a ZSET of a site's deliveries by creation (Unix ms), for
// listing; trimmed past delivery_days by the route script. No TTL. Written
// by collector/outbound's route script.
func OutboundIndex(site string) string { return siteKey(site, "out", "idx") }

// OutboundDead is a ZSET of a site's dead deliveries by the time they died
// (Unix ms); replay removes them. No TTL; trimmed past delivery_days.
// Written by collector/outbound's finish and replay scripts.
func OutboundDead(site string) string { return siteKey(site, "out", "dead") }

// OutboundChat is a ZSET of the deliveries of one chat's events: member the
// delivery ID, score its creation (Unix ms), so that a person's export and
// erasure find them without a scan. TTL: the site's delivery_days (at least
// two days) plus the retry window, renewed whenever a delivery of the chat
// is made, finished or replayed; members older than that are trimmed when
// one is added. Written by collector/outbound's route, finish and replay
// scripts; deleted by collector/outbound's EraseChat (collector/person's
// erasure).
func OutboundChat(site, chat string) string { return siteKey(site, "out", "chat", part(chat)) }

// OutboundErased is a STRING marking a chat erased while stream entries
// could still name it: the ID of the newest OutboundEvents entry at the
// erasure. The route script makes no delivery for an entry of the chat at or
// before that ID. Named by the chat's salted hash (collector/person's Hash),
// never by the chat key. TTL: the site's delivery_days (at least two days).
// Written by collector/outbound's EraseChat.
func OutboundErased(site, hash string) string { return siteKey(site, "out", "erased", part(hash)) }

// OutboundRouter is a STRING, the token of the collector that routes the
// site's OutboundEvents now (one at a time, so a chat's events keep their
// order). TTL: the routing lease (30 s), renewed at each round. Written by
// collector/outbound's route lock script.
func OutboundRouter(site string) string { return siteKey(site, "out", "router") }

// --- collector/learn: the learned matcher -----------------------------------

// LearnLabelled is a LIST of one messenger's labelled first messages (a
// message whose code named its visit, or an operator's confirmation of a
// candidate, marked "confirmed"), newest first, each as JSON: the
// message's features (time, target, phone country and offsets, language,
// the target's clicks in the hour before), the clicked visit's (click time,
// IP country, UTC offset, browser language) and those of the other
// candidates in the match window. No phone number, chat or visit ID.
// Capped at learn.MaxExamples entries by LTRIM on every push; TTL
// learn.ExampleTTL, renewed on every push. Written by the collector after
// the message or the confirmation is stored; read in batches by
// learn.Store.Refit.
func LearnLabelled(site, messenger string) string {
	return siteKey(site, "learn", "lab", part(messenger))
}

// LearnUnlabelled is a LIST of one messenger's code-less first messages
// that reached the time-and-geo matcher, with their candidates' features,
// newest first, as LearnLabelled. Cap, TTL, writer and reader as
// LearnLabelled's.
func LearnUnlabelled(site, messenger string) string {
	return siteKey(site, "learn", "unl", part(messenger))
}

// LearnMessengers is a SET of the messengers that have examples
// (LearnLabelled, LearnUnlabelled). TTL learn.ExampleTTL, renewed on every
// push. Written with the examples; read by learn.Store.Refit.
func LearnMessengers(site string) string { return siteKey(site, "learn", "ms") }

// LearnModel is a HASH holding the site's fitted matcher model: "version"
// (an integer, one more on every fit), "model" (posterior.Model as JSON),
// "refitted" (the refit's time, Unix milliseconds, by the refitting
// collector's clock; a serving collector refits at start when it is
// missing or older than collector.RefitEvery).
// No TTL: the model is small (tens of KB) and is what the matcher uses
// until the next fit. Written by learn.Store.Refit; read by the matcher,
// which checks "version" at most once a minute and reloads "model" when it
// changed.
func LearnModel(site string) string { return siteKey(site, "learn", "model") }

// LearnProof is a STRING holding the site's live proof as JSON: per
// messenger and month, what each fitted model would have answered for the
// labelled first messages that arrived after its fit had their codes been
// lost (counts, precision and recall with intervals, reliability table).
// No TTL; one row per messenger and month, so it grows by a few rows a
// month. Written by learn.Store.Refit (read, added to, written back under
// LearnLock).
func LearnProof(site string) string { return siteKey(site, "learn", "proof") }

// LearnLock is a STRING held by the collector that is refitting the site's
// model, so that several collectors do not fit at once. TTL: learn.LockTTL
// (a fit that dies frees it then). Written with SET NX by
// learn.Store.Refit, deleted by it when it finishes.
func LearnLock(site string) string { return siteKey(site, "learn", "lock") }

// --- WhatsApp Business: statuses, spend, templates --------------------------

// WAMessage is a HASH of one outbound WhatsApp message (by its Cloud API ID):
// "s" what is known of it as JSON (its statuses' times, pricing, template,
// the recipient's country, replies, the chat's source; never the number or
// the chat key), "c" what it adds to the WADay and
// WATemplateDay counters now as JSON, "v" a version that makes concurrent
// updates retry. TTL 35 days, renewed on each write: longer than statuses
// and retries come. Written by collector/wabiz's update script.
func WAMessage(site, id string) string { return siteKey(site, "wa", "m", part(id)) }

// WAConversation is a STRING naming the message that counts a
// conversation-priced conversation (by its conversation ID), so that a
// conversation is counted and priced once whichever of its messages come
// first. TTL 35 days. Written with SET NX by collector/wabiz.
func WAConversation(site, id string) string { return siteKey(site, "wa", "conv", part(id)) }

// WAChatOutbound is a ZSET of a chat's recent template messages: member the
// message ID, score its send time (Unix ms); replies within 24 hours count
// for them. TTL 2 days, renewed on each write, members older than that
// trimmed. Written by collector/wabiz when a template message is recorded.
func WAChatOutbound(site, chat string) string { return siteKey(site, "wa", "out", part(chat)) }

// WADay is a HASH of one site-local day's WhatsApp pricing counters (by the
// day a message was sent): "free|<category>", "paid|<category>",
// "fep|<category>" (free entry points), "spend|<category>" and
// "nocard|<category>" (paid units without a rate) in millionths of the
// currency, and "src|<channel>\x1f<campaign>\x1f<ad>|<free|paid|spend>". No
// TTL. Written by collector/wabiz's update script.
func WADay(site, day string) string { return siteKey(site, "wa", "d", day) }

// WATemplateDay is a HASH of one site-local day's template counters (by the
// day a template message was sent): "<template>\x1f<sent|delivered|read|
// failed|replied|clicked|paid|cost>", cost in millionths of the currency.
// No TTL. Written by collector/wabiz's update script.
func WATemplateDay(site, day string) string { return siteKey(site, "wa", "t", day) }

// --- replication -----------------------------------------------------------

// ReplicaSync is a STRING "1" in the hash slot of key (the slot of key's
// hash tag, or of the whole key when it has none). TTL 10 s. Written by
// store.Replicas right before a WAIT, on the connection that sends the
// WAIT, so that the WAIT covers everything its node executed before; it
// holds nothing else.
func ReplicaSync(key string) string {
	tag := key
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			tag = key[i+1 : i+1+j]
		}
	}
	return prefix + "{" + tag + "}:sync"
}
