package inbound

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The Telegram Bot API webhook's updates. One site may run several bots
// (the webhook URL names the bot); business messages (a bot connected to a
// business account) belong to a user account.

// Telegram is an update as read: a person's message, or the notices it
// carries (possibly none, as for a deletion of no messages), or neither
// (Message and Notices nil: the update is ignored).
type Telegram struct {
	Message *Message
	Notices []Notice
}

// ReadTelegram reads an update's body for the given bot and business user
// account ("" when the site has none), received at the given time. A body
// that is no update is an *InputError.
func ReadTelegram(body []byte, bot, user string, received time.Time) (*Telegram, error) {
	var u tgUpdate
	if err := json.Unmarshal(body, &u); err != nil {
		return nil, badInput("malformed Telegram update: %s", JSONProblem(err))
	}
	if u.UpdateID == nil {
		return nil, badInput("the update has no update_id")
	}
	if in := telegramMessage(&u, bot, user, received); in != nil {
		return &Telegram{Message: in}, nil
	}
	return &Telegram{Notices: telegramNotices(&u, bot, user, received)}, nil
}

// tgUpdate is an incoming update; only messages and notices are of
// interest.
type tgUpdate struct {
	UpdateID        *int64     `json:"update_id"`
	Message         *tgMessage `json:"message"`
	BusinessMessage *tgMessage `json:"business_message"`
	tgNoticeUpdates
}

type tgMessage struct {
	MessageID int64   `json:"message_id"`
	From      *tgUser `json:"from"`
	Chat      struct {
		ID   int64  `json:"id"`
		Type string `json:"type"`
	} `json:"chat"`
	Date    int64  `json:"date"`
	Text    string `json:"text"`
	Caption string `json:"caption"`
	// EditDate is set in an edited message: when it was edited.
	EditDate int64 `json:"edit_date"`
}

type tgUser struct {
	ID           int64  `json:"id"`
	IsBot        bool   `json:"is_bot"`
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name"`
	Username     string `json:"username"`
	LanguageCode string `json:"language_code"`
}

// TelegramAccount resolves a webhook's ?bot= or ?user=: a configured name
// (in the site's telegram lists or its sources), else the list's first;
// false when the name is configured nowhere.
func TelegramAccount(query string, configured []string, sources []string) (string, bool) {
	name := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(query), "@"))
	if name == "" {
		if len(configured) == 0 {
			return "", true
		}
		return configured[0], true
	}
	return name, slices.Contains(configured, name) || slices.Contains(sources, name)
}

// telegramMessage turns an update into a Message, or nil for what is not a
// person writing in a private chat: group messages, other bots, and in
// business chats the business's own replies.
func telegramMessage(u *tgUpdate, bot, user string, received time.Time) *Message {
	m, business := u.Message, false
	if m == nil {
		m, business = u.BusinessMessage, true
	}
	if m == nil || m.From == nil || m.From.IsBot || m.Chat.Type != "private" || m.From.ID != m.Chat.ID {
		return nil
	}
	target := "telegram:" + bot
	if business {
		target = "telegram:" + user
	}
	if strings.HasSuffix(target, ":") {
		target = ""
	}
	in := &Message{
		Messenger: "telegram",
		Chat:      "telegram:" + strconv.FormatInt(m.Chat.ID, 10),
		Name:      strings.TrimSpace(m.From.FirstName + " " + m.From.LastName),
		Username:  m.From.Username,
		Target:    target,
		Text:      m.Text,
		MessageID: tgUpdateID(bot, *u.UpdateID),
		Language:  m.From.LanguageCode,
		Ref:       telegramRef(business, bot, user, m.MessageID),
	}
	if in.Text == "" {
		in.Text = m.Caption
	}
	in.Time, in.PlatformTime = Time(time.Unix(m.Date, 0), received)
	if !business {
		in.Start, in.HasStart = StartPayload(in.Text, bot)
	}
	return in
}

// tgUpdateID is an update's message ID: update IDs count per bot.
func tgUpdateID(bot string, updateID int64) string {
	if bot == "" {
		bot = "-"
	}
	return "tg:" + bot + ":" + strconv.FormatInt(updateID, 10)
}

// StartPayload reads "/start PAYLOAD" (or "/start@bot PAYLOAD"), the first
// message of a chat opened through a t.me/bot?start= link.
func StartPayload(text, bot string) (string, bool) {
	cmd, rest, _ := strings.Cut(strings.TrimSpace(text), " ")
	name, at, hasAt := strings.Cut(cmd, "@")
	if name != "/start" || (hasAt && bot != "" && !strings.EqualFold(at, bot)) {
		return "", false
	}
	return strings.TrimSpace(rest), true
}

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
func telegramNotices(u *tgUpdate, bot, user string, received time.Time) []Notice {
	updateID := tgUpdateID(bot, *u.UpdateID)
	switch {
	case u.EditedMessage != nil || u.EditedBusinessMessage != nil:
		// An edited message is the message again: read it as one, so the
		// rules for who wrote (the person, in a private chat) are the same.
		in := telegramMessage(&tgUpdate{UpdateID: u.UpdateID, Message: u.EditedMessage, BusinessMessage: u.EditedBusinessMessage}, bot, user, received)
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
		return []Notice{{Kind: NoticeEdited, Chat: in.Chat, ID: in.MessageID, Ref: in.Ref, Text: in.Text, Time: at}}
	case u.MessageReaction != nil:
		r := u.MessageReaction
		if r.User == nil || r.User.IsBot || r.Chat.Type != "private" || r.User.ID != r.Chat.ID {
			return nil
		}
		return []Notice{{Kind: NoticeReaction, Chat: "telegram:" + strconv.FormatInt(r.Chat.ID, 10), ID: updateID,
			Ref: telegramRef(false, bot, user, r.MessageID), Emoji: tgEmoji(r.NewReaction), Time: tgTime(r.Date, received)}}
	case u.DeletedBusinessMessages != nil:
		d := u.DeletedBusinessMessages
		if d.Chat.Type != "private" || d.Chat.ID == 0 {
			return nil
		}
		// One notice per deleted message, each once; the update has no
		// date, so they take the time it arrived.
		chat, at := "telegram:"+strconv.FormatInt(d.Chat.ID, 10), received.UTC()
		ns := make([]Notice, 0, len(d.MessageIDs))
		for _, id := range d.MessageIDs {
			ns = append(ns, Notice{Kind: NoticeDeleted, Chat: chat, ID: updateID + "/" + strconv.FormatInt(id, 10),
				Ref: telegramRef(true, bot, user, id), Time: at})
		}
		return ns
	}
	return nil
}

// tgTime is a Bot API date, or received when it is missing.
func tgTime(date int64, received time.Time) time.Time {
	if date <= 0 {
		return received.UTC()
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
