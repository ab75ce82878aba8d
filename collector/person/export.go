package person

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector/ledger"
	"github.com/messtrack/messtrack/collector/outbound"
	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/reports"
	"github.com/messtrack/messtrack/store"
)

// Export is everything the site keeps about one chat's person.
type Export struct {
	Site       string    `json:"site"`
	Chat       string    `json:"chat"`
	ExportedAt time.Time `json:"exported_at"`
	// Record is the chat's record (who wrote, how each conversation was
	// matched, the source and visitor snapshot); null when none is kept.
	Record        *ledger.Record `json:"record"`
	LastMessageAt *time.Time     `json:"last_message_at"`
	Messages      int64          `json:"messages"`
	// Pending are conversation facts not yet handed to reports.
	Pending json.RawMessage       `json:"pending,omitempty"`
	History []ledger.HistoryEntry `json:"history"`
	// Sessions are the chat's attribution sessions and their conversions.
	Sessions []reports.Session `json:"sessions"`
	// ReportState is the reports' per-chat state as stored: every
	// conversation (attributed or not) and business event.
	ReportState json.RawMessage `json:"report_state,omitempty"`
	// Visits are the visits matched to the chat that are still kept.
	Visits []Visit `json:"visits"`
	// Tags are the operators' tags on the chat (also in Record).
	Tags []string `json:"tags"`
	// Deliveries are the outbound deliveries of the chat's events that
	// are kept (pending, delivered or dead), oldest first, each with what
	// it sent.
	Deliveries []outbound.ChatDelivery `json:"deliveries"`
	// Keys are the Redis keys that hold the above, and what each holds.
	Keys []Key `json:"keys"`
}

// Visit is a visit matched to the chat, as kept.
type Visit struct {
	Number uint64 `json:"number"`
	ID     string `json:"id,omitempty"`
	// Visit is the stored visit, IP included; LastClick the chat link it
	// clicked last (target, page, time).
	Visit     *visit.Visit    `json:"visit"`
	LastClick json.RawMessage `json:"last_click,omitempty"`
	// Claim is how the visit is matched to this chat: "code", "confirmed",
	// "guess", or "" when another chat holds the claim.
	Claim string `json:"claim,omitempty"`
	// CodeMatched says the chat is in the visit's set of chats its code
	// (or an operator's confirmation) matched; OtherChats counts the
	// others, which are not shown: they may be other people.
	CodeMatched bool `json:"code_matched"`
	OtherChats  int  `json:"other_chats"`
}

// Key is one Redis key that holds something about the person.
type Key struct {
	Key  string `json:"key"`
	What string `json:"what"`
	// Erased says whether an erasure removes it (or renames it to a hash);
	// false: it stays until its TTL.
	Erased bool `json:"erased"`
}

var claimKinds = map[string]string{"f": "code", "c": "confirmed", "h": "guess"}

// Export gathers what the site keeps about the chat. A chat that holds
// nothing exports an empty document.
func (s *Service) Export(ctx context.Context, site, chat string) (*Export, error) {
	st, err := s.site(site)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	site = st.Name
	out := &Export{Site: site, Chat: chat, ExportedAt: s.clock.Now().UTC(),
		History: []ledger.HistoryEntry{}, Visits: []Visit{}, Tags: []string{}, Deliveries: []outbound.ChatDelivery{}, Keys: []Key{}}
	c, err := s.ledger.Load(ctx, site, chat)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	sh := s.ledger.Shards(site)
	out.Record, out.Messages = c.Record, c.Msgs
	if c.Record != nil && len(c.Record.Tags) > 0 {
		out.Tags = c.Record.Tags
	}
	if c.Last != 0 {
		t := time.UnixMilli(c.Last).UTC()
		out.LastMessageAt = &t
	}
	if c.Pending != "" {
		out.Pending = json.RawMessage(c.Pending)
	}
	if c.Record != nil || c.Msgs != 0 {
		out.Keys = append(out.Keys, Key{Key: sh.Chat(chat), What: "chat record", Erased: true})
	}
	raw, err := s.ledger.History(ctx, site, chat)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	var seen []string
	for _, r := range raw {
		var h ledger.HistoryEntry
		if err := json.Unmarshal([]byte(r), &h); err != nil {
			return nil, fmt.Errorf("export: history entry: %w", err)
		}
		out.History = append(out.History, h)
		if h.MessageID != "" {
			seen = append(seen, h.MessageID)
		}
	}
	if len(raw) > 0 {
		out.Keys = append(out.Keys, Key{Key: sh.ChatHistory(chat), What: "chat history", Erased: true})
	}
	if n, err := s.rdb.Exists(ctx, sh.HeldCode(chat)).Result(); err != nil {
		return nil, fmt.Errorf("export: held code: %w", err)
	} else if n > 0 {
		out.Keys = append(out.Keys, Key{Key: sh.HeldCode(chat), What: "a link code held for the chat's next message", Erased: true})
	}
	if _, err := s.rdb.ZScore(ctx, store.Chats(site), chat).Result(); err == nil {
		out.Keys = append(out.Keys, Key{Key: store.Chats(site), What: "the chat key in the site's chat index", Erased: true})
	} else if !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("export: index: %w", err)
	}
	if out.Sessions, err = s.reports.ChatSessions(ctx, site, chat); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	if out.Sessions == nil {
		out.Sessions = []reports.Session{}
	}
	state, err := s.rdb.Get(ctx, store.ReportChat(site, chat)).Result()
	switch {
	case err == nil:
		out.ReportState = json.RawMessage(state)
		out.Keys = append(out.Keys, Key{Key: store.ReportChat(site, chat),
			What: "reports' conversations and events of the chat (renamed to a salted hash on erasure)", Erased: true})
	case !errors.Is(err, redis.Nil):
		return nil, fmt.Errorf("export: report state: %w", err)
	}
	if err := s.exportVisits(ctx, site, chat, c.Record, out); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	markers, err := s.markers(ctx, site, chat)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	for _, m := range markers {
		out.Keys = append(out.Keys, Key{Key: m, What: "an unattributed conversation counted by an earlier version (renamed on erasure)", Erased: true})
	}
	switch n, err := s.rdb.Exists(ctx, sh.CodeOpen(chat)).Result(); {
	case err != nil:
		return nil, fmt.Errorf("export: code note: %w", err)
	case n > 0:
		out.Keys = append(out.Keys, Key{Key: sh.CodeOpen(chat),
			What: "how the code-survival report counted the chat's latest first message (time, outcome, code format; for a guessed visit its number and counted language, device, channel and page)", Erased: true})
	}
	if err := s.exportDeliveries(ctx, site, chat, out); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	for _, id := range seen {
		n, err := s.rdb.Exists(ctx, sh.MessageSeen(chat, id)).Result()
		if err != nil {
			return nil, fmt.Errorf("export: seen: %w", err)
		}
		if n > 0 {
			out.Keys = append(out.Keys, Key{Key: sh.MessageSeen(chat, id),
				What: "the platform's message ID, marked processed (kept until its 8-day TTL)"})
		}
	}
	return out, nil
}

// exportDeliveries adds the deliveries of the chat's events and the keys
// that hold them.
func (s *Service) exportDeliveries(ctx context.Context, site, chat string, out *Export) error {
	waiting, err := outbound.ChatWaiting(ctx, s.rdb, site, chat)
	if err != nil {
		return err
	}
	if len(waiting) > 0 {
		out.Keys = append(out.Keys, Key{Key: store.OutboundEvents(site),
			What: fmt.Sprintf("%d of the chat's events waiting to be sent out (their payload as the deliveries')", len(waiting)), Erased: true})
	}
	ds, err := outbound.ChatDeliveries(ctx, s.rdb, site, chat)
	if err != nil {
		return err
	}
	out.Deliveries = ds
	if len(ds) == 0 {
		return nil
	}
	out.Keys = append(out.Keys, Key{Key: store.OutboundChat(site, chat), What: "the IDs of the chat's outbound deliveries", Erased: true})
	var lanes []string
	dead := false
	for _, d := range ds {
		out.Keys = append(out.Keys, Key{Key: store.OutboundDelivery(site, d.ID),
			What: "an outbound delivery of the chat's event (" + d.Type + " to " + d.Target + ", " + d.State + "), with its payload", Erased: true})
		dead = dead || d.State == "dead"
		if d.Lane != "" && !slices.Contains(lanes, d.Lane) {
			lanes = append(lanes, d.Lane)
		}
	}
	for _, l := range lanes {
		n, err := s.rdb.Exists(ctx, store.OutboundLane(site, l)).Result()
		if err != nil {
			return fmt.Errorf("delivery lane: %w", err)
		}
		if n > 0 {
			out.Keys = append(out.Keys, Key{Key: store.OutboundLane(site, l), What: "the chat's queue of pending deliveries to one target", Erased: true})
		}
	}
	out.Keys = append(out.Keys, Key{Key: store.OutboundIndex(site), What: "the delivery IDs in the site's delivery list", Erased: true})
	if dead {
		out.Keys = append(out.Keys, Key{Key: store.OutboundDead(site), What: "the dead deliveries' IDs in the site's dead letters", Erased: true})
	}
	return nil
}

// exportVisits adds the visits the record names that are still kept.
func (s *Service) exportVisits(ctx context.Context, site, chat string, r *ledger.Record, out *Export) error {
	for _, n := range visitNumbers(r) {
		raw, err := s.rdb.Get(ctx, s.ledger.Shards(site).Visit(n)).Bytes()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return fmt.Errorf("visit: %w", err)
		}
		v, err := visit.Decode(n, raw)
		if err != nil {
			return fmt.Errorf("visit: %w", err)
		}
		if v.Static {
			// A printed source code's visit is shared and holds nobody's
			// data.
			continue
		}
		ev := Visit{Number: n, Visit: v}
		if s.visitID != nil {
			ev.ID = s.visitID(site, n)
		}
		out.Keys = append(out.Keys, Key{Key: s.ledger.Shards(site).Visit(n), What: "visit (IP, location, device, pages)", Erased: true})
		click, err := s.rdb.Get(ctx, s.ledger.Shards(site).VisitClick(n)).Result()
		switch {
		case err == nil:
			ev.LastClick = json.RawMessage(click)
			out.Keys = append(out.Keys, Key{Key: s.ledger.Shards(site).VisitClick(n), What: "the visit's last chat click (page)", Erased: true})
		case !errors.Is(err, redis.Nil):
			return fmt.Errorf("visit click: %w", err)
		}
		claim, err := s.rdb.Get(ctx, s.ledger.Shards(site).VisitMatched(n)).Result()
		switch {
		case err == nil:
			if len(claim) > 2 && claim[2:] == chat {
				ev.Claim = claimKinds[claim[:1]]
				out.Keys = append(out.Keys, Key{Key: s.ledger.Shards(site).VisitMatched(n), What: "the visit's claim by the chat", Erased: true})
			}
		case !errors.Is(err, redis.Nil):
			return fmt.Errorf("visit claim: %w", err)
		}
		chats, err := s.ledger.VisitChats(ctx, site, n)
		if err != nil {
			return err
		}
		ev.CodeMatched = slices.Contains(chats, chat)
		ev.OtherChats = len(chats)
		if ev.CodeMatched {
			ev.OtherChats--
			out.Keys = append(out.Keys, Key{Key: s.ledger.Shards(site).VisitChats(n), What: "the chat key in the visit's matched chats", Erased: true})
		}
		// On a site of several shards, a note that the chat's code took the
		// visit from a guess lives until the guess is revoked.
		taken, err := s.rdb.Get(ctx, s.ledger.Shards(site).VisitTaken(n)).Result()
		switch {
		case err == nil:
			if strings.HasPrefix(taken, chat+"|") {
				out.Keys = append(out.Keys, Key{Key: s.ledger.Shards(site).VisitTaken(n), What: "the chat key in the visit's note of a guess it took", Erased: true})
			}
		case !errors.Is(err, redis.Nil):
			return fmt.Errorf("visit note: %w", err)
		}
		out.Visits = append(out.Visits, ev)
	}
	return nil
}
