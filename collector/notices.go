package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/reports"
	"github.com/messtrack/messtrack/store"
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

// History kinds of notices.
const (
	NoticeReaction = "reaction"
	NoticeEdited   = "edited"
	NoticeDeleted  = "deleted"
)

// maxEmoji bounds a stored reaction (Telegram allows several at once).
const maxEmoji = 64

// notice is one platform event about an earlier message, in one form for
// every inbound path.
type notice struct {
	Kind string
	Chat string
	// ID is the notice's own ID, which makes a redelivered notice count
	// once (the same seen mark as messages); "" when the source gives none.
	ID string
	// Ref names the message the notice is about, in the form inbound.ref
	// gives that message; "" when the platform does not say.
	Ref string
	// Emoji is a reaction's emoji, "" when the reaction was removed.
	Emoji string
	// Text is an edit's new text.
	Text string
	Time time.Time
}

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

// ref is how notices name the message in: Ref, else its MessageID.
func (in *inbound) ref() string {
	if in.Ref != "" {
		return in.Ref
	}
	return in.MessageID
}

// receiveNotice records one notice in its chat. Like receive, it returns
// only after the notice is stored, and a redelivered notice (same ID)
// changes nothing.
func (s *Server) receiveNotice(ctx context.Context, st *site, n *notice) (*noticeResult, error) {
	return updateChat(ctx, s, st, n.Chat, "receiveNotice", func(sc *storedChat) (*noticeResult, error) {
		return s.receiveNoticeOnce(ctx, st, n, sc)
	})
}

// receiveNoticeOnce is one round of receiveNotice on the chat as loaded.
func (s *Server) receiveNoticeOnce(ctx context.Context, st *site, n *notice, sc *storedChat) (*noticeResult, error) {
	out := &noticeResult{Chat: n.Chat}
	if n.ID != "" {
		seen, err := s.rdb.Exists(ctx, store.MessageSeen(st.cfg.Name, n.ID)).Result()
		if err != nil {
			return nil, fmt.Errorf("receiveNotice: seen: %w", err)
		}
		if seen > 0 {
			out.Duplicate = true
			return out, nil
		}
	}
	if sc.State == nil {
		s.log.Debug("notice for an unknown chat ignored", "site", st.cfg.Name, "chat", n.Chat, "kind", n.Kind)
		return out, nil
	}
	if err := s.handOver(ctx, st, n.Chat, sc.Pending); err != nil {
		return nil, fmt.Errorf("receiveNotice: %w", err)
	}
	next := *sc.State
	h := &historyEntry{Time: n.Time.UTC().Format(time.RFC3339), Kind: n.Kind, MessageID: n.ID, Ref: n.Ref}
	switch n.Kind {
	case NoticeReaction:
		h.Emoji = cleanName(cleanText(n.Emoji, maxEmoji))
	case NoticeEdited:
		h.Text = cleanText(n.Text, maxStoredText)
	}
	conv, err := s.editCode(ctx, st, sc.State, n)
	if err != nil {
		return nil, fmt.Errorf("receiveNotice: %w", err)
	}
	// The record is written back even when unchanged: its version makes a
	// message stored meanwhile send the notice round again. MessageAt stays
	// zero, so last, msgs and the chat's index score do not move.
	c := commit{Chat: n.Chat, Ver: sc.Ver, State: &next, MessageID: n.ID}
	if conv != nil {
		s.attribute(st, &next, conv)
		if next.ConvMsg == "" {
			next.ConvMsg = n.Ref
		}
		// The edited message now carries the code: its conversation
		// started by it.
		next.Starts = setStart(startsOf(sc.State), next.ConvAt, reports.MethodID, conv.Visit.N)
		for i := range next.Starts {
			if next.Starts[i].At == next.ConvAt {
				next.Starts[i].Reason = startCode
			}
		}
		c.Facts = []reports.Conversation{s.conversationFact(st, &next)}
		conf := next.Confidence
		h.Method, h.Confidence, h.Visit = next.Method, &conf, next.Visit
		if !conv.Visit.Static {
			c.Claim, c.ClaimKind = conv.Visit.N, claimCode
		}
	}
	c.History = []historyEntry{*h}
	res, err := s.commit(ctx, st, c)
	if err != nil {
		return nil, fmt.Errorf("receiveNotice: %w", err)
	}
	switch res.Outcome {
	case commitDuplicate:
		out.Duplicate = true
		return out, nil
	case commitClaimed:
		return nil, errRetry
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
	pending, err := json.Marshal(c.Facts)
	if err != nil {
		return nil, fmt.Errorf("receiveNotice: %w", err)
	}
	if err := s.handOver(ctx, st, n.Chat, string(pending)); err != nil {
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
func (s *Server) editCode(ctx context.Context, st *site, cs *chatState, n *notice) (*conversation, error) {
	if n.Kind != NoticeEdited || n.Ref == "" || cs.Method != reports.MethodNone || cs.ConvAt == 0 {
		return nil, nil
	}
	first, err := s.convFirstMessage(ctx, st, cs)
	if err != nil {
		return nil, fmt.Errorf("editCode: %w", err)
	}
	if first != n.Ref {
		return nil, nil
	}
	code, err := s.findCode(ctx, st, &inbound{Chat: n.Chat, Text: n.Text}, startsOf(cs))
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
func (s *Server) convFirstMessage(ctx context.Context, st *site, cs *chatState) (string, error) {
	if cs.ConvMsg != "" {
		return cs.ConvMsg, nil
	}
	raw, err := s.rdb.LRange(ctx, store.ChatHistory(st.cfg.Name, cs.Chat), 0, -1).Result()
	if err != nil {
		return "", fmt.Errorf("convFirstMessage: %w", err)
	}
	for i := len(raw) - 1; i >= 0; i-- {
		var h historyEntry
		if json.Unmarshal([]byte(raw[i]), &h) == nil && h.Kind == "conversation" {
			return h.MessageID, nil
		}
	}
	return "", nil
}

// takeNotices records a webhook's notices and adds them to its answer:
// recorded ones as received, unknown chats' as ignored.
func (s *Server) takeNotices(ctx context.Context, st *site, ns []notice, ans *hookAnswer) error {
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

// --- WhatsApp -----------------------------------------------------------------

// waNoticeFields are the parts of a WhatsApp message that make it a notice
// (Meta's webhook reference: reaction, edit and revoke messages; the
// unsupported message's type).
type waNoticeFields struct {
	Reaction    *waReaction    `json:"reaction"`
	Edit        *waEdit        `json:"edit"`
	Revoke      *waRevoke      `json:"revoke"`
	Unsupported *waUnsupported `json:"unsupported"`
}

// waReaction is a reaction to message_id; without emoji (or with an empty
// one) the person removed their reaction.
type waReaction struct {
	MessageID string `json:"message_id"`
	Emoji     string `json:"emoji"`
}

// waEdit is a new version of original_message_id: text, or media with a
// caption.
type waEdit struct {
	OriginalMessageID string     `json:"original_message_id"`
	Message           *waMessage `json:"message"`
}

type waRevoke struct {
	OriginalMessageID string `json:"original_message_id"`
}

// waUnsupported says what an unsupported message was, where Meta says it.
type waUnsupported struct {
	Type string `json:"type"`
}

// waNoticeKind is the history kind of a WhatsApp message type that is a
// notice (also as an unsupported message's type), or "".
func waNoticeKind(typ string) string {
	switch typ {
	case "reaction":
		return NoticeReaction
	case "edit":
		return NoticeEdited
	case "revoke":
		return NoticeDeleted
	}
	return ""
}

// whatsAppNotice is the notice a WhatsApp message is, or nil for a person
// writing. in is the message as whatsAppInbound read it (chat, ID, time).
// An unsupported message counts as a person writing (Meta sends one for a
// first message it cannot show, often right after an ad click) unless its
// unsupported.type names a notice.
func whatsAppNotice(m *waMessage, in *inbound) []notice {
	typ := m.Type
	if typ == "unsupported" && m.Unsupported != nil {
		typ = m.Unsupported.Type
	}
	kind := waNoticeKind(typ)
	if kind == "" {
		return nil
	}
	n := notice{Kind: kind, Chat: in.Chat, ID: in.MessageID, Time: in.Time}
	waRef := func(id string) string {
		if id == "" {
			return ""
		}
		return "wa:" + id
	}
	switch {
	case m.Type == "reaction" && m.Reaction != nil:
		n.Ref, n.Emoji = waRef(m.Reaction.MessageID), m.Reaction.Emoji
	case m.Type == "edit" && m.Edit != nil:
		n.Ref = waRef(m.Edit.OriginalMessageID)
		if m.Edit.Message != nil {
			n.Text = m.Edit.Message.text()
		}
	case m.Type == "revoke" && m.Revoke != nil:
		n.Ref = waRef(m.Revoke.OriginalMessageID)
	}
	return []notice{n}
}

// --- Telegram -----------------------------------------------------------------

// tgNoticeUpdates are the Bot API updates that are notices: edits of a
// person's message (in a bot chat or a connected business chat), reactions,
// and messages deleted from a business chat.
type tgNoticeUpdates struct {
	EditedMessage           *tgMessage         `json:"edited_message"`
	EditedBusinessMessage   *tgMessage         `json:"edited_business_message"`
	MessageReaction         *tgReactionUpdated `json:"message_reaction"`
	DeletedBusinessMessages *tgDeleted         `json:"deleted_business_messages"`
}

// tgReactionUpdated is MessageReactionUpdated: user's reactions on
// message_id changed from old_reaction to new_reaction.
type tgReactionUpdated struct {
	Chat        tgChat       `json:"chat"`
	MessageID   int64        `json:"message_id"`
	User        *tgUser      `json:"user"`
	Date        int64        `json:"date"`
	OldReaction []tgReaction `json:"old_reaction"`
	NewReaction []tgReaction `json:"new_reaction"`
}

// tgReaction is a ReactionType: emoji, custom_emoji or paid.
type tgReaction struct {
	Type          string `json:"type"`
	Emoji         string `json:"emoji"`
	CustomEmojiID string `json:"custom_emoji_id"`
}

// tgDeleted is BusinessMessagesDeleted.
type tgDeleted struct {
	BusinessConnectionID string  `json:"business_connection_id"`
	Chat                 tgChat  `json:"chat"`
	MessageIDs           []int64 `json:"message_ids"`
}

type tgChat struct {
	ID   int64  `json:"id"`
	Type string `json:"type"`
}

// telegramRef names a Telegram message for notices: message IDs count per
// chat, and a person's bot chat and business chat are one chat record, so
// the account is part of the name.
func telegramRef(business bool, bot, user string, messageID int64) string {
	account := bot
	if business {
		account = user
	}
	if account == "" {
		account = "-"
	}
	return "tg:" + account + ":msg:" + strconv.FormatInt(messageID, 10)
}

// telegramNotices are the notices an update carries, or nil when it is no
// notice of a person in a private chat.
func (s *Server) telegramNotices(u *tgUpdate, bot, user string) []notice {
	botKey := bot
	if botKey == "" {
		botKey = "-"
	}
	updateID := "tg:" + botKey + ":" + strconv.FormatInt(*u.UpdateID, 10)
	switch {
	case u.EditedMessage != nil || u.EditedBusinessMessage != nil:
		// An edited message is the message again: read it as one, so the
		// rules for who wrote (the person, in a private chat) are the same.
		in := s.telegramInbound(&tgUpdate{UpdateID: u.UpdateID, Message: u.EditedMessage, BusinessMessage: u.EditedBusinessMessage}, bot, user)
		if in == nil {
			return nil
		}
		m := u.EditedMessage
		if m == nil {
			m = u.EditedBusinessMessage
		}
		at := in.Time
		if m.EditDate > 0 {
			at = time.Unix(m.EditDate, 0).UTC()
		}
		return []notice{{Kind: NoticeEdited, Chat: in.Chat, ID: in.MessageID, Ref: in.Ref, Text: in.Text, Time: at}}
	case u.MessageReaction != nil:
		r := u.MessageReaction
		if r.User == nil || r.User.IsBot || r.Chat.Type != "private" || r.User.ID != r.Chat.ID {
			return nil
		}
		return []notice{{Kind: NoticeReaction, Chat: "telegram:" + strconv.FormatInt(r.Chat.ID, 10), ID: updateID,
			Ref: telegramRef(false, bot, user, r.MessageID), Emoji: tgEmoji(r.NewReaction), Time: s.tgTime(r.Date)}}
	case u.DeletedBusinessMessages != nil:
		d := u.DeletedBusinessMessages
		if d.Chat.Type != "private" || d.Chat.ID == 0 {
			return nil
		}
		// One notice per deleted message, each once; the update has no
		// date, so they take the time it arrived.
		chat, at := "telegram:"+strconv.FormatInt(d.Chat.ID, 10), s.clock.Now().UTC()
		ns := make([]notice, 0, len(d.MessageIDs))
		for _, id := range d.MessageIDs {
			ns = append(ns, notice{Kind: NoticeDeleted, Chat: chat, ID: updateID + "/" + strconv.FormatInt(id, 10),
				Ref: telegramRef(true, bot, user, id), Time: at})
		}
		return ns
	}
	return nil
}

// tgTime is a Bot API date, or now when it is missing.
func (s *Server) tgTime(date int64) time.Time {
	if date <= 0 {
		return s.clock.Now().UTC()
	}
	return time.Unix(date, 0).UTC()
}

// tgEmoji is a reaction list as stored: its emoji, space-separated; a
// custom emoji or a paid reaction by its type. "" when the list is empty
// (the reaction was removed).
func tgEmoji(rs []tgReaction) string {
	parts := make([]string, 0, len(rs))
	for _, r := range rs {
		switch {
		case r.Type == "emoji" && r.Emoji != "":
			parts = append(parts, r.Emoji)
		case r.Type != "":
			parts = append(parts, r.Type)
		}
	}
	return strings.Join(parts, " ")
}

// --- generic messages API ------------------------------------------------------

// Kinds of a generic message.
const (
	kindMessage  = "message"
	kindReaction = "reaction"
	kindEdit     = "edit"
	kindDelete   = "delete"
)

// noticeRequest are the generic message's fields for IDs and notices: kind
// (message, the default, or reaction, edit, delete), id (this message's or
// notice's own ID, so a redelivery counts once), ref (the ID of the message
// a notice is about) and emoji (a reaction's; empty: removed).
type noticeRequest struct {
	Kind  string `json:"kind"`
	ID    string `json:"id"`
	Ref   string `json:"ref"`
	Emoji string `json:"emoji"`
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

// genericID checks a generic id or ref and gives its stored form, scoped
// to the channel so that two platforms' IDs never meet.
func genericID(field, channel, id string) (string, error) {
	if id == "" {
		return "", nil
	}
	if len(id) > 128 || cleanName(id) != id {
		return "", fail(ErrBadInput, "%s must be at most 128 bytes on one line, without control characters", field)
	}
	return "msg:" + channel + ":" + id, nil
}

// genericKind checks a generic message's kind: "" or message is a person
// writing, otherwise one of the notice kinds.
func genericKind(kind string) (string, error) {
	switch k := strings.ToLower(strings.TrimSpace(kind)); k {
	case "", kindMessage:
		return kindMessage, nil
	case kindReaction, kindEdit, kindDelete:
		return k, nil
	}
	return "", fail(ErrBadInput, "kind %q is not one of message, reaction, edit, delete", clip(kind, 40))
}

// handleGenericNotice stores a generic notice (kind reaction, edit or
// delete) of the message in already read, and answers what became of it.
func (s *Server) handleGenericNotice(c *fiber.Ctx, st *site, req *messageRequest, kind string, in *inbound) error {
	ref, err := genericID("ref", in.Messenger, strings.TrimSpace(req.Ref))
	if err != nil {
		return err
	}
	if ref == "" {
		return fail(ErrBadInput, "ref is required for kind %s: the id of the message it is about", kind)
	}
	n := &notice{Chat: in.Chat, ID: in.MessageID, Ref: ref, Time: in.Time}
	switch kind {
	case kindReaction:
		n.Kind, n.Emoji = NoticeReaction, req.Emoji
	case kindEdit:
		n.Kind, n.Text = NoticeEdited, req.Text
	default:
		n.Kind = NoticeDeleted
	}
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
