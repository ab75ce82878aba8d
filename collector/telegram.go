package collector

import (
	"crypto/subtle"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// The Telegram Bot API webhook. Telegram signs nothing: the secret token
// set with setWebhook comes back in a header, and that is the only check.
// The setWebhook URL names the bot (?bot=NAME) since one site may run
// several; business messages (a bot connected to a business account) go to
// the site's first configured user account unless ?user=NAME.

// tgUpdate is an incoming update; only messages are of interest.
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

// telegramAccount resolves ?bot= or ?user=: a configured name (in the
// site's telegram lists or its sources), else the list's first.
func telegramAccount(query string, configured []string, sources []string) (string, bool) {
	name := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(query), "@"))
	if name == "" {
		if len(configured) == 0 {
			return "", true
		}
		return configured[0], true
	}
	return name, slices.Contains(configured, name) || slices.Contains(sources, name)
}

func (s *Server) handleTelegram(c *fiber.Ctx) error {
	st, err := s.siteParam(c)
	if err != nil {
		return err
	}
	want := st.cfg.TelegramSecretToken
	if want == "" {
		return fail(ErrForbidden, "this site has no telegram_secret_token: its Telegram webhook is off")
	}
	if subtle.ConstantTimeCompare([]byte(c.Get("X-Telegram-Bot-Api-Secret-Token")), []byte(want)) != 1 {
		return fail(ErrForbidden, "missing or wrong X-Telegram-Bot-Api-Secret-Token")
	}
	var srcBots, srcUsers []string
	for _, src := range st.cfg.Sources {
		srcBots, srcUsers = append(srcBots, src.Bot), append(srcUsers, src.User)
	}
	bot, ok := telegramAccount(c.Query("bot"), st.cfg.Telegram.Bots, srcBots)
	if !ok {
		return fail(ErrBadInput, "bot %q is not configured for this site", clip(c.Query("bot"), 40))
	}
	user, ok := telegramAccount(c.Query("user"), st.cfg.Telegram.Users, srcUsers)
	if !ok {
		return fail(ErrBadInput, "user %q is not configured for this site", clip(c.Query("user"), 40))
	}
	var u tgUpdate
	if err := json.Unmarshal(c.Body(), &u); err != nil {
		return fail(ErrBadInput, "malformed Telegram update: %s", jsonProblem(err))
	}
	if u.UpdateID == nil {
		return fail(ErrBadInput, "the update has no update_id")
	}
	in := s.telegramInbound(&u, bot, user)
	if in == nil {
		var ans hookAnswer
		ns := s.telegramNotices(&u, bot, user)
		if ns == nil {
			ans.Ignored = 1
		} else if err := s.takeNotices(c.UserContext(), st, ns, &ans); err != nil {
			return err
		}
		return c.JSON(ans)
	}
	res, err := s.receive(c.UserContext(), st, in)
	if err != nil {
		return err
	}
	if res.Duplicate {
		return c.JSON(hookAnswer{Duplicates: 1})
	}
	return c.JSON(hookAnswer{Received: 1})
}

// telegramInbound turns an update into the matcher's form, or nil for
// what is not a person writing in a private chat: group messages, other
// bots, and in business chats the business's own replies.
func (s *Server) telegramInbound(u *tgUpdate, bot, user string) *inbound {
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
	botKey := bot
	if botKey == "" {
		botKey = "-"
	}
	in := &inbound{
		Messenger: "telegram",
		Chat:      "telegram:" + strconv.FormatInt(m.Chat.ID, 10),
		Name:      strings.TrimSpace(m.From.FirstName + " " + m.From.LastName),
		Username:  m.From.Username,
		Target:    target,
		Text:      m.Text,
		MessageID: "tg:" + botKey + ":" + strconv.FormatInt(*u.UpdateID, 10),
		Language:  m.From.LanguageCode,
		Ref:       telegramRef(business, bot, user, m.MessageID),
	}
	if in.Text == "" {
		in.Text = m.Caption
	}
	in.Time, in.PlatformTime = messageTime(time.Unix(m.Date, 0), s.clock.Now())
	if !business {
		in.Start, in.HasStart = startPayload(in.Text, bot)
	}
	return in
}

// startPayload reads "/start PAYLOAD" (or "/start@bot PAYLOAD"), the first
// message of a chat opened through a t.me/bot?start= link.
func startPayload(text, bot string) (string, bool) {
	cmd, rest, _ := strings.Cut(strings.TrimSpace(text), " ")
	name, at, hasAt := strings.Cut(cmd, "@")
	if name != "/start" || (hasAt && bot != "" && !strings.EqualFold(at, bot)) {
		return "", false
	}
	return strings.TrimSpace(rest), true
}
