package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/collector/inbound"
	"github.com/messtrack/messtrack/collector/ledger"
	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/reports"
)

// Notices: platform events about an earlier message (a reaction, an edit, a
// deletion) rather than a person writing. A notice never creates a chat,
// never opens a conversation, is never attributed by the matcher, and never
// moves the chat's last-message time, message count or place in the chat
// list. In an existing chat it goes into the history once, as what it is;
// for a chat the collector does not know it is acknowledged and ignored.
//
// The one exception is an edit of the message that began an unattributed
// conversation: when the new text holds a live code of the site, the code
// counts as if it had been there from the start (receiveNotice).

// maxEmoji bounds a stored reaction (Telegram allows several at once).
const maxEmoji = 64

// noticeResult is what became of a notice.
type noticeResult struct {
	Chat string
	// Recorded: the notice went into the chat's history. Neither Recorded
	// nor Duplicate: the chat is unknown and the notice was ignored.
	Recorded  bool
	Duplicate bool
	// Attributed is set when an edit's code attributed the conversation;
	// Method, Confidence and Visit are then the conversation's match.
	Attributed bool
	Method     string
	Confidence float64
	Visit      *visit.Visit
}

// receiveNotice records one notice in its chat. Like receive, it returns
// only after the notice is stored, and a redelivered notice (same ID)
// changes nothing.
func (s *Server) receiveNotice(ctx context.Context, st *site, n *inbound.Notice) (*noticeResult, error) {
	return ledger.Update(ctx, s.ledger, st.cfg.Name, n.Chat, "receiveNotice", func(sc *ledger.Chat) (*noticeResult, error) {
		return s.receiveNoticeOnce(ctx, st, n, sc)
	})
}

// receiveNoticeOnce is one round of receiveNotice on the chat as loaded.
func (s *Server) receiveNoticeOnce(ctx context.Context, st *site, n *inbound.Notice, sc *ledger.Chat) (*noticeResult, error) {
	out := &noticeResult{Chat: n.Chat}
	if n.ID != "" {
		seen, err := s.ledger.Seen(ctx, st.cfg.Name, n.Chat, n.ID)
		if err != nil {
			return nil, fmt.Errorf("receiveNotice: %w", err)
		}
		if seen {
			if err := s.ledger.IndexSeen(ctx, st.cfg.Name, n.Chat, sc); err != nil {
				return nil, fmt.Errorf("receiveNotice: %w", err)
			}
			out.Duplicate = true
			return out, nil
		}
	}
	if sc.Record == nil {
		s.log.Debug("notice for an unknown chat ignored", "site", st.cfg.Name, "chat", n.Chat, "kind", n.Kind)
		return out, nil
	}
	if err := s.ledger.HandOver(ctx, st.cfg.Name, n.Chat, sc.Pending); err != nil {
		return nil, fmt.Errorf("receiveNotice: %w", err)
	}
	next := *sc.Record
	h := &ledger.HistoryEntry{Time: n.Time.UTC().Format(time.RFC3339), Kind: n.Kind, MessageID: n.ID, Ref: n.Ref}
	switch n.Kind {
	case inbound.NoticeReaction:
		h.Emoji = inbound.CleanName(inbound.CleanText(n.Emoji, maxEmoji))
	case inbound.NoticeEdited:
		if st.cfg.KeepsMessageText() {
			h.Text = inbound.CleanText(n.Text, ledger.MaxStoredText)
		}
	}
	conv, err := s.editCode(ctx, st, sc.Record, n)
	if err != nil {
		return nil, fmt.Errorf("receiveNotice: %w", err)
	}
	// The record is written back even when unchanged: its version makes a
	// message stored meanwhile send the notice round again. MessageAt stays
	// zero, so last, msgs and the chat's index score do not move.
	c := ledger.Commit{Chat: n.Chat, Ver: sc.Ver, Record: &next, MessageID: n.ID}
	if conv != nil {
		s.attribute(st, &next, conv)
		if next.ConvMsg == "" {
			next.ConvMsg = n.Ref
		}
		// The edited message now carries the code: its conversation
		// started by it.
		next.Starts = ledger.SetStart(ledger.StartsOf(sc.Record), next.ConvAt, reports.MethodID, conv.Visit.N)
		for i := range next.Starts {
			if next.Starts[i].At == next.ConvAt {
				next.Starts[i].Reason = ledger.StartCode
			}
		}
		c.Facts = []reports.Conversation{s.conversationFact(st, &next)}
		conf := next.Confidence
		h.Method, h.Confidence, h.Visit = next.Method, &conf, next.Visit
		if !conv.Visit.Static {
			c.Claim, c.ClaimTTL, c.ClaimKind = conv.Visit.N, st.visitTTL(), ledger.ClaimCode
		}
	}
	c.History = []ledger.HistoryEntry{*h}
	res, err := s.ledger.Commit(ctx, st.cfg.Name, c)
	if err != nil {
		return nil, fmt.Errorf("receiveNotice: %w", err)
	}
	switch res.Outcome {
	case ledger.Duplicate:
		out.Duplicate = true
		return out, nil
	case ledger.Claimed:
		return nil, ledger.ErrRetry
	}
	out.Recorded = true
	if conv == nil {
		return out, nil
	}
	if res.TakenFrom != "" {
		if err := s.revokeGuess(ctx, st, res.TakenFrom, conv.Visit.N); err != nil {
			return nil, fmt.Errorf("receiveNotice: %w", err)
		}
	}
	if err := s.ledger.HandOverFacts(ctx, st.cfg.Name, n.Chat, c.Facts); err != nil {
		return nil, fmt.Errorf("receiveNotice: %w", err)
	}
	s.countMatch(next.Method)
	out.Attributed, out.Method, out.Confidence, out.Visit = true, next.Method, next.Confidence, conv.Visit
	return out, nil
}

// editCode is the conversation an edit attributes, or nil: only an edit of
// the message that began the chat's current conversation, when that
// conversation is unattributed and the new text holds a live code of the
// site that the chat has not brought before. The conversation keeps its own
// time, so reports replace its fact as for a late-delivered first message.
func (s *Server) editCode(ctx context.Context, st *site, cs *ledger.Record, n *inbound.Notice) (*conversation, error) {
	if n.Kind != inbound.NoticeEdited || n.Ref == "" || cs.Method != reports.MethodNone || cs.ConvAt == 0 {
		return nil, nil
	}
	first, err := s.convFirstMessage(ctx, st, cs)
	if err != nil {
		return nil, fmt.Errorf("editCode: %w", err)
	}
	if first != n.Ref {
		return nil, nil
	}
	code, err := s.findCode(ctx, st, &inbound.Message{Chat: n.Chat, Text: n.Text}, ledger.StartsOf(cs))
	if err != nil {
		return nil, fmt.Errorf("editCode: %w", err)
	}
	if code == nil || code.Mine {
		return nil, nil
	}
	conv := &conversation{Time: time.UnixMilli(cs.ConvAt), Method: reports.MethodID, Confidence: 1, Visit: code.Visit}
	if conv.Click, err = s.visitClick(ctx, st, code.Visit.N); err != nil {
		return nil, fmt.Errorf("editCode: %w", err)
	}
	return conv, nil
}

// convFirstMessage names the message that began the chat's current
// conversation: the record's conv_msg, else (a record stored before it was
// kept) the message ID of the history's last conversation entry.
func (s *Server) convFirstMessage(ctx context.Context, st *site, cs *ledger.Record) (string, error) {
	if cs.ConvMsg != "" {
		return cs.ConvMsg, nil
	}
	raw, err := s.ledger.History(ctx, st.cfg.Name, cs.Chat)
	if err != nil {
		return "", fmt.Errorf("convFirstMessage: %w", err)
	}
	for i := len(raw) - 1; i >= 0; i-- {
		var h ledger.HistoryEntry
		if json.Unmarshal([]byte(raw[i]), &h) == nil && h.Kind == ledger.KindConversation {
			return h.MessageID, nil
		}
	}
	return "", nil
}

// takeNotices records a webhook's notices and adds them to its answer:
// recorded ones as received, unknown chats' as ignored.
func (s *Server) takeNotices(ctx context.Context, st *site, ns []inbound.Notice, ans *hookAnswer) error {
	for i := range ns {
		res, err := s.receiveNotice(ctx, st, &ns[i])
		if err != nil {
			return err
		}
		switch {
		case res.Duplicate:
			ans.Duplicates++
		case res.Recorded:
			ans.Received++
		default:
			ans.Ignored++
		}
	}
	return nil
}

// noticeResponse answers a generic notice.
type noticeResponse struct {
	Chat string `json:"chat"`
	Kind string `json:"kind"`
	// Recorded: in the chat's history. Ignored says why not ("no_chat").
	Recorded  bool   `json:"recorded"`
	Duplicate bool   `json:"duplicate"`
	Ignored   string `json:"ignored,omitempty"`
	// Method, Confidence and Visit are set when an edit's code attributed
	// the conversation it began.
	Method     string     `json:"method,omitempty"`
	Confidence float64    `json:"confidence,omitempty"`
	Visit      *visitView `json:"visit,omitempty"`
}

// handleGenericNotice stores a generic notice (kind reaction, edit or
// delete) and answers what became of it.
func (s *Server) handleGenericNotice(c *fiber.Ctx, st *site, n *inbound.Notice) error {
	res, err := s.receiveNotice(c.UserContext(), st, n)
	if err != nil {
		return err
	}
	ans := noticeResponse{Chat: res.Chat, Kind: n.Kind, Recorded: res.Recorded, Duplicate: res.Duplicate}
	if !res.Recorded && !res.Duplicate {
		ans.Ignored = "no_chat"
	}
	if res.Attributed {
		ans.Method, ans.Confidence, ans.Visit = res.Method, res.Confidence, viewVisit(st, res.Visit)
	}
	return c.JSON(ans)
}
