package collector

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/messtrack/messtrack/collector/inbound"
	"github.com/messtrack/messtrack/collector/ledger"
	"github.com/messtrack/messtrack/collector/score"
	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/reports"
)

// MatchResult is the matcher's answer for one inbound message.
type MatchResult struct {
	Chat       string
	Method     string
	Confidence float64
	Visit      *visit.Visit
	// NewChat is set for the first message of a chat, NewConversation for
	// the first message of any conversation.
	NewChat         bool
	NewConversation bool
	// Duplicate is set when the message was processed before.
	Duplicate bool
}

// receive runs one inbound message through the matcher and stores its
// effect. It returns only after the message is stored, so a platform that
// gets an error retries and loses nothing; a redelivered message (same
// MessageID) is reported as Duplicate and changes nothing.
func (s *Server) receive(ctx context.Context, st *site, in *inbound.Message) (*MatchResult, error) {
	return ledger.Update(ctx, s.ledger, st.cfg.Name, in.Chat, "receive", func(sc *ledger.Chat) (*MatchResult, error) {
		return s.receiveOnce(ctx, st, in, sc)
	})
}

// validReferral tells a click-to-WhatsApp referral that names its ad.
func validReferral(r *inbound.Referral) bool {
	return r != nil && (r.SourceID != "" || r.CtwaClid != "" || r.SourceURL != "")
}

// startDecision is what one message does to a chat's conversations.
type startDecision struct {
	// Conv is the conversation the message starts, nil for a continuation.
	Conv   *conversation
	Reason string
	// Drop are starts the message shows were no starts: a late-delivered
	// earlier message took the place of the chat's first message, or
	// brought a code earlier than the message that was counted for it.
	Drop []ledger.Start
}

// decideStart applies the conversation rules to one message. A message
// starts a conversation when it carries a click-to-WhatsApp referral, when
// it carries a live code of a visit that no earlier message of the chat
// brought, or when it is the chat's earliest message (then, without
// referral or code, the matcher decides its source). Anything else
// continues the conversation in progress.
func (s *Server) decideStart(ctx context.Context, st *site, cs *ledger.Record, in *inbound.Message, code *foundCode) (startDecision, error) {
	var d startDecision
	starts := ledger.StartsOf(cs)
	t := in.Time.UnixMilli()
	switch {
	case validReferral(in.Referral):
		d.Conv = &conversation{Time: in.Time, Method: reports.MethodReferral, Confidence: 1, Referral: in.Referral}
		d.Reason = ledger.StartReferral
	case code != nil && !code.Mine:
		d.Conv, d.Reason = s.idConversation(in, code), ledger.StartCode
	case code != nil:
		if old := ledger.StartOfVisit(starts, code.Visit.N); old != nil && t < old.At {
			d.Conv, d.Reason = s.idConversation(in, code), ledger.StartCode
			d.Drop = append(d.Drop, *old)
		}
	}
	if cs == nil || (len(starts) > 0 && t < starts[0].At) {
		if d.Conv == nil {
			conv, err := s.match(ctx, st, in)
			if err != nil {
				return d, fmt.Errorf("decideStart: %w", err)
			}
			d.Conv, d.Reason = conv, ledger.StartFirst
		}
		if len(starts) > 0 && starts[0].Reason == ledger.StartFirst && (len(d.Drop) == 0 || d.Drop[0].At != starts[0].At) {
			d.Drop = append(d.Drop, starts[0])
		}
	}
	return d, nil
}

// receiveOnce is one round of receive on the chat as loaded.
func (s *Server) receiveOnce(ctx context.Context, st *site, in *inbound.Message, sc *ledger.Chat) (*MatchResult, error) {
	if in.MessageID != "" {
		seen, err := s.ledger.Seen(ctx, st.cfg.Name, in.Chat, in.MessageID)
		if err != nil {
			return nil, fmt.Errorf("receive: %w", err)
		}
		if seen {
			if err := s.ledger.IndexSeen(ctx, st.cfg.Name, in.Chat, sc); err != nil {
				return nil, fmt.Errorf("receive: %w", err)
			}
			return s.duplicate(ctx, st, in)
		}
	}
	if err := s.ledger.HandOver(ctx, st.cfg.Name, in.Chat, sc.Pending); err != nil {
		return nil, fmt.Errorf("receive: %w", err)
	}
	code, err := s.findCode(ctx, st, in, ledger.StartsOf(sc.Record))
	if err != nil {
		return nil, fmt.Errorf("receive: %w", err)
	}
	d, err := s.decideStart(ctx, st, sc.Record, in, code)
	if err != nil {
		return nil, fmt.Errorf("receive: %w", err)
	}
	conv := d.Conv
	if conv != nil && conv.Method == reports.MethodID {
		if conv.Click, err = s.visitClick(ctx, st, conv.Visit.N); err != nil {
			return nil, fmt.Errorf("receive: %w", err)
		}
	}
	state, facts := s.nextState(st, sc.Record, in, d)
	c := ledger.Commit{Chat: in.Chat, Ver: sc.Ver, Record: state, MessageAt: in.Time, MessageID: in.MessageID, Facts: facts}
	at := in.Time.UTC().Format(time.RFC3339)
	for _, dr := range d.Drop {
		c.History = append(c.History, ledger.HistoryEntry{Time: rfc3339ms(dr.At), Kind: ledger.KindContinued, Method: dr.Method,
			MessageID: dr.Msg})
		if dr.Method == reports.MethodHeuristic && dr.VisitN != 0 && (conv == nil || conv.Visit == nil || conv.Visit.N != dr.VisitN) {
			c.Release = dr.VisitN
		}
	}
	if conv != nil {
		conf := conv.Confidence
		var visit string
		if conv.Visit != nil {
			visit = st.codec.VisitID(conv.Visit.N)
		}
		c.History = append(c.History, ledger.HistoryEntry{Time: at, Kind: ledger.KindConversation, Method: conv.Method,
			Confidence: &conf, Visit: visit, MessageID: in.MessageID, PlatformTime: inbound.PlatformTimeText(in.PlatformTime)})
		if st.cfg.KeepsMessageText() {
			c.History[len(c.History)-1].Text = inbound.CleanText(in.Text, ledger.MaxStoredText)
		}
		if conv.Visit != nil && !conv.Visit.Static {
			c.Claim, c.ClaimTTL, c.ClaimKind = conv.Visit.N, st.visitTTL(), ledger.ClaimGuess
			if conv.Method == reports.MethodID {
				c.ClaimKind = ledger.ClaimCode
			}
		}
	} else {
		c.History = append(c.History, ledger.HistoryEntry{Time: at, Kind: ledger.KindMessage, MessageID: in.MessageID,
			PlatformTime: inbound.PlatformTimeText(in.PlatformTime)})
	}
	res, err := s.ledger.Commit(ctx, st.cfg.Name, c)
	if err != nil {
		return nil, fmt.Errorf("receive: %w", err)
	}
	switch res.Outcome {
	case ledger.Duplicate:
		return s.duplicate(ctx, st, in)
	case ledger.Claimed:
		return nil, ledger.ErrRetry
	}
	if res.TakenFrom != "" {
		if err := s.revokeGuess(ctx, st, res.TakenFrom, conv.Visit.N); err != nil {
			return nil, fmt.Errorf("receive: %w", err)
		}
	}
	if len(facts) > 0 {
		if err := s.ledger.HandOverFacts(ctx, st.cfg.Name, in.Chat, facts); err != nil {
			return nil, fmt.Errorf("receive: %w", err)
		}
	}
	if conv != nil {
		s.countFirstMessage(ctx, st, in, conv)
		s.learnFrom(ctx, st, in, conv)
	}
	out := &MatchResult{Chat: in.Chat, Method: state.Method, Confidence: state.Confidence,
		NewChat: sc.Record == nil, NewConversation: conv != nil}
	if conv != nil {
		s.countMatch(conv.Method)
		out.Method, out.Confidence, out.Visit = conv.Method, conv.Confidence, conv.Visit
	} else if state.VisitN != 0 {
		out.Visit = s.answerVisit(ctx, st, state.VisitN)
	}
	return out, nil
}

// duplicate answers a message processed before: the chat as it stands. A
// fact whose hand-over failed the first time is handed over now, which is
// why platforms' retries after an error recover it.
func (s *Server) duplicate(ctx context.Context, st *site, in *inbound.Message) (*MatchResult, error) {
	sc, err := s.ledger.Load(ctx, st.cfg.Name, in.Chat)
	if err != nil {
		return nil, fmt.Errorf("receive: duplicate: %w", err)
	}
	if err := s.ledger.HandOver(ctx, st.cfg.Name, in.Chat, sc.Pending); err != nil {
		return nil, fmt.Errorf("receive: duplicate: %w", err)
	}
	out := &MatchResult{Chat: in.Chat, Method: reports.MethodNone, Duplicate: true}
	if sc.Record != nil {
		out.Method, out.Confidence = sc.Record.Method, sc.Record.Confidence
		if sc.Record.VisitN != 0 {
			out.Visit = s.answerVisit(ctx, st, sc.Record.VisitN)
		}
	}
	return out, nil
}

// liveVisit loads a visit, answering nil without error when it expired.
func (s *Server) liveVisit(ctx context.Context, st *site, n uint64) (*visit.Visit, error) {
	v, err := s.loadVisit(ctx, st, n)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return v, err
}

// answerVisit is the chat's visit for an answer given after the message is
// stored: a failure to read it must not fail the message (the platform would
// retry what is already kept), so it is logged and the answer goes without it.
func (s *Server) answerVisit(ctx context.Context, st *site, n uint64) *visit.Visit {
	v, err := s.liveVisit(ctx, st, n)
	if err != nil {
		s.log.Warn("answer without the chat's visit", "site", st.cfg.Name, "visit", n, "err", err)
	}
	return v
}

func (s *Server) idConversation(in *inbound.Message, code *foundCode) *conversation {
	return &conversation{Time: in.Time, Method: reports.MethodID, Confidence: 1, Visit: code.Visit}
}

// nextState is the chat's record after the message, and the reports facts
// it makes: who wrote is refreshed; a conversation start is added to the
// chat's starts (the starts it proves were none are dropped) and, when it is
// the latest, becomes the record's attribution.
func (s *Server) nextState(st *site, prev *ledger.Record, in *inbound.Message, d startDecision) (*ledger.Record, []reports.Conversation) {
	var next ledger.Record
	if prev != nil {
		next = *prev
		next.Starts = append([]ledger.Start(nil), ledger.StartsOf(prev)...)
		// A message delivered late (a platform's retry) may predate the
		// one that created the chat: the chat began when it was sent.
		if at := in.Time.UnixMilli(); at < next.First {
			next.First = at
		}
	} else {
		next = ledger.Record{Chat: in.Chat, Messenger: in.Messenger, First: in.Time.UnixMilli()}
	}
	if in.Name != "" && st.cfg.KeepsMessageText() {
		next.Name = inbound.CleanName(in.Name)
	}
	if in.Username != "" && st.cfg.KeepsMessageText() {
		next.Username = inbound.CleanName(in.Username)
	}
	if in.Phone != "" {
		next.Phone = in.Phone
	}
	if in.Language != "" {
		next.Language = inbound.CleanName(in.Language)
	}
	if in.Target != "" {
		next.Target = in.Target
	}
	conv := d.Conv
	if conv == nil {
		return &next, nil
	}
	var facts []reports.Conversation
	currentDropped := false
	for _, dr := range d.Drop {
		next.Starts = slices.DeleteFunc(next.Starts, func(x ledger.Start) bool { return x.At == dr.At })
		next.Conversations--
		currentDropped = currentDropped || dr.At == next.ConvAt
		facts = append(facts, reports.Conversation{Site: st.cfg.Name, Chat: next.Chat, Time: time.UnixMilli(dr.At).UTC(), Retract: true})
	}
	t := conv.Time.UnixMilli()
	start := ledger.Start{At: t, Reason: d.Reason, Method: conv.Method, Msg: in.MessageID}
	if conv.Visit != nil {
		start.VisitN = conv.Visit.N
	}
	i, _ := slices.BinarySearchFunc(next.Starts, t, func(x ledger.Start, t int64) int { return cmp.Compare(x.At, t) })
	next.Starts = slices.Insert(next.Starts, i, start)
	if len(next.Starts) > ledger.MaxStarts {
		next.Starts = next.Starts[len(next.Starts)-ledger.MaxStarts:]
	}
	next.Conversations++
	if next.Conversations < len(next.Starts) {
		next.Conversations = len(next.Starts)
	}
	attributed := next
	attributed.ConvAt = t
	attributed.ConvMsg = in.NoticeRef()
	s.attribute(st, &attributed, conv)
	facts = append(facts, s.conversationFact(st, &attributed))
	if prev == nil || currentDropped || t >= prev.ConvAt {
		next = attributed
	}
	next.Dialog = reports.DialogRepeat
	if len(next.Starts) > 0 && next.Starts[0].At == next.ConvAt && next.Conversations == len(next.Starts) {
		next.Dialog = reports.DialogNew
	}
	return &next, facts
}

// attribute writes a conversation's match into the record.
func (s *Server) attribute(st *site, next *ledger.Record, conv *conversation) {
	next.Method, next.Confidence, next.Confirmed = conv.Method, conv.Confidence, conv.Confirmed
	next.VisitN, next.Visit = 0, ""
	next.Source, next.Visitor, next.Candidates = ledger.Source{}, ledger.Visitor{}, conv.Candidates
	switch {
	case conv.Visit != nil:
		v := conv.Visit
		next.VisitN, next.Visit = v.N, st.codec.VisitID(v.N)
		next.Source = visitSource(st, v, conv.Click)
		next.Visitor = ledger.Visitor{Country: v.Country, Region: v.Region, City: v.City, OS: v.OS,
			Browser: v.Browser, Device: v.Device, Screen: v.Screen, Language: v.Language}
	case conv.Referral != nil:
		r := conv.Referral
		title := r.Headline
		if title == "" {
			title = r.Body
		}
		// The ad's link may carry UTM tags: they fill the chat's as a web
		// visit's landing page would.
		tags := visit.Visit{Landing: r.SourceURL}
		visit.ReadLandingTags(&tags)
		next.Source = ledger.Source{Channel: "messenger_ad", Referrer: r.SourceURL, AdID: r.SourceID,
			AdTitle: title, AdType: r.SourceType, ClickID: r.CtwaClid,
			UTMSource: tags.UTMSource, UTMMedium: tags.UTMMedium, UTMCampaign: tags.UTMCampaign,
			UTMContent: tags.UTMContent, UTMTerm: tags.UTMTerm}
	case conv.Source != nil:
		next.Source = ledger.Source{Channel: conv.Source.Channel, AdTitle: conv.Source.Title, OfflineSource: conv.Source.Name}
	}
}

// visitSource is the source snapshot of a visit: the page is the one its
// chat link was clicked on, else the visit's own page.
func visitSource(st *site, v *visit.Visit, click *clickInfo) ledger.Source {
	src := ledger.Source{Channel: v.Channel, UTMSource: v.UTMSource, UTMMedium: v.UTMMedium,
		UTMCampaign: v.UTMCampaign, UTMContent: v.UTMContent, UTMTerm: v.UTMTerm,
		Referrer: v.Referrer, LandingPage: v.Landing, Page: v.Page, ClickID: v.ClickID,
		AdID: v.UTMContent, OfflineSource: v.Source}
	if src.AdID == "" {
		src.AdID = v.UTMCampaign
	}
	// A paid web campaign is an ad in the ads report's type column, as a
	// click-to-WhatsApp referral's source_type is.
	if src.AdID != "" && (v.Channel == reports.ChannelPaidSearch || v.Channel == reports.ChannelPaidSocial || v.Channel == reports.ChannelMessengerAd) {
		src.AdType = "ad"
	}
	if click != nil && click.Page != "" {
		src.Page = click.Page
	}
	if v.Source != "" {
		if cfgSrc := st.cfg.Sources[v.Source]; cfgSrc != nil {
			src.AdTitle = cfgSrc.Title
			if src.Channel == "" {
				src.Channel = cfgSrc.Channel
			}
		}
	}
	return src
}

// revokeGuess undoes a chat's heuristic match to visit n after a code
// proved the visit belongs to another chat: the chat goes back to
// unmatched, its other candidates kept for review, reports get the
// corrected fact (same Site, Chat and Time, method none), and the
// code-survival count of its first message leaves the visit (countRevoked).
func (s *Server) revokeGuess(ctx context.Context, st *site, chat string, n uint64) error {
	convAt, err := ledger.Update(ctx, s.ledger, st.cfg.Name, chat, "revokeGuess", func(sc *ledger.Chat) (int64, error) {
		cs := sc.Record
		if cs == nil || cs.VisitN != n || cs.Method != reports.MethodHeuristic || cs.Confirmed {
			return 0, nil
		}
		if err := s.ledger.HandOver(ctx, st.cfg.Name, chat, sc.Pending); err != nil {
			return 0, fmt.Errorf("revokeGuess: %w", err)
		}
		taken := cs.Visit
		next := *cs
		var rest []score.Candidate
		for _, c := range cs.Candidates {
			if c.Visit != taken {
				rest = append(rest, c)
			}
		}
		s.attribute(st, &next, &conversation{Method: reports.MethodNone, Candidates: rest})
		next.Starts = ledger.SetStart(ledger.StartsOf(cs), cs.ConvAt, reports.MethodNone, 0)
		facts := []reports.Conversation{s.conversationFact(st, &next)}
		zero := 0.0
		// No claim and no message ID: the commit is stored or conflicts.
		_, err := s.ledger.Commit(ctx, st.cfg.Name, ledger.Commit{Chat: chat, Ver: sc.Ver, Record: &next, Facts: facts,
			History: []ledger.HistoryEntry{{Time: s.clock.Now().UTC().Format(time.RFC3339), Kind: ledger.KindRevoked,
				Method: reports.MethodNone, Confidence: &zero, Visit: taken}}})
		if err != nil {
			return 0, fmt.Errorf("revokeGuess: %w", err)
		}
		if err := s.ledger.HandOverFacts(ctx, st.cfg.Name, chat, facts); err != nil {
			return 0, fmt.Errorf("revokeGuess: %w", err)
		}
		return cs.ConvAt, nil
	})
	if err != nil {
		return err
	}
	if convAt != 0 {
		s.countRevoked(ctx, st, chat, convAt, n)
	}
	// The note of whose guess was taken (a site of several shards) has
	// served: it names the chat, so it goes now.
	if st.Keys.Count() > 1 {
		if err := s.rdb.Del(ctx, st.Keys.VisitTaken(n)).Err(); err != nil {
			return fmt.Errorf("revokeGuess: %w", err)
		}
	}
	return nil
}

// conversationFact is the reports fact of the chat's current conversation.
func (s *Server) conversationFact(st *site, cs *ledger.Record) reports.Conversation {
	return reports.Conversation{
		Site: st.cfg.Name, Chat: cs.Chat, Time: time.UnixMilli(cs.ConvAt).UTC(), Messenger: cs.Messenger,
		Method: cs.Method, Confidence: cs.Confidence,
		Channel: cs.Source.Channel, UTMSource: cs.Source.UTMSource, UTMMedium: cs.Source.UTMMedium,
		UTMCampaign: cs.Source.UTMCampaign, UTMContent: cs.Source.UTMContent, UTMTerm: cs.Source.UTMTerm,
		AdID: cs.Source.AdID, AdTitle: cs.Source.AdTitle, AdType: cs.Source.AdType, ClickID: cs.Source.ClickID,
		Page: cs.Source.Page, Landing: cs.Source.LandingPage, Referrer: cs.Source.Referrer, Source: cs.Source.OfflineSource,
	}
}

// SetConversationSink makes fn, in place of the reports store, receive every
// conversation fact (the first message of each chat and each later
// attributed conversation), at least once. Call it before Serve.
func (s *Server) SetConversationSink(fn func(context.Context, reports.Conversation) error) {
	s.ledger.SetSink(fn)
}
