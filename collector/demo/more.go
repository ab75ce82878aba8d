package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/config"
)

// The demo phone's MAX bot and VK community: their taps post a MAX update
// (bot_started with the link's start payload, or message_created) or a VK
// Callback API message_new (with the link's ref) to the collector's real
// webhooks.

// accountNames are the lower-case names of a messenger's accounts on st.
func accountNames(st *config.Site, key string) []string {
	m := st.Messenger(key)
	if m == nil {
		return nil
	}
	_, list := m.List()
	out := make([]string, 0, len(list))
	for _, a := range list {
		out = append(out, strings.ToLower(strings.TrimPrefix(a.Name, "@")))
	}
	return out
}

// MAXUpdate is a MAX update: bot_started (Start pressed, with the link's
// payload) when Started, else message_created with Text.
type MAXUpdate struct {
	UserID          int64
	FirstName, Last string
	Text, Payload   string
	Started         bool
	Locale          string
	Time            time.Time
}

// MAXWebhook is u in the MAX Bot API's Update shape.
func MAXWebhook(u MAXUpdate) ([]byte, error) {
	user := map[string]any{"user_id": u.UserID, "first_name": u.FirstName, "last_name": u.Last, "is_bot": false}
	ms := u.Time.UnixMilli()
	if u.Started {
		return json.Marshal(map[string]any{"update_type": "bot_started", "timestamp": ms, "chat_id": u.UserID + 1,
			"user": user, "payload": u.Payload, "user_locale": u.Locale})
	}
	return json.Marshal(map[string]any{"update_type": "message_created", "timestamp": ms, "user_locale": u.Locale,
		"message": map[string]any{"sender": user, "recipient": map[string]any{"chat_id": u.UserID + 1, "chat_type": "dialog"},
			"timestamp": ms, "body": map[string]any{"mid": "mid.demo." + randomHex(), "seq": ms, "text": u.Text}}})
}

// VKMessage is a person's message to a VK community, with the ref of the
// vk.me link it came through.
type VKMessage struct {
	GroupID, FromID, ID int64
	Text, Ref, Secret   string
	Time                time.Time
}

// VKWebhook is m as the Callback API's message_new event.
func VKWebhook(m VKMessage) ([]byte, error) {
	msg := map[string]any{"date": m.Time.Unix(), "from_id": m.FromID, "id": m.ID, "out": 0, "peer_id": m.FromID,
		"text": m.Text, "conversation_message_id": m.ID, "attachments": []any{}, "fwd_messages": []any{}}
	if m.Ref != "" {
		msg["ref"], msg["ref_source"] = m.Ref, "demo"
	}
	return json.Marshal(map[string]any{"type": "message_new", "group_id": m.GroupID, "event_id": randomHex(), "v": "5.199",
		"object": map[string]any{"message": msg, "client_info": map[string]any{"keyboard": true, "lang_id": 3}}, "secret": m.Secret})
}

// sendMore posts a message typed for a MAX bot or a VK community and gives
// the chat, the webhook's path and what was posted.
func (p *Phone) sendMore(ctx context.Context, st *config.Site, req *sendRequest, name string) (chat, hook string, body []byte, err error) {
	id, perr := strconv.ParseInt(req.From, 10, 64)
	if perr != nil || id <= 0 {
		return "", "", nil, fiber.NewError(fiber.StatusBadRequest, "from must be a user ID")
	}
	to := strings.ToLower(strings.TrimPrefix(req.To, "@"))
	if !slices.Contains(accountNames(st, req.Messenger), to) {
		return "", "", nil, fiber.NewError(fiber.StatusBadRequest, "to must be one of the site's "+req.Messenger+" accounts")
	}
	first, last, _ := strings.Cut(name, " ")
	cl := NewClient(p.do, st, p.cfg.PublicURL)
	now := p.clock.Now()
	switch req.Messenger {
	case "max":
		started := strings.HasPrefix(req.Text, "/start")
		body, err = MAXWebhook(MAXUpdate{UserID: id, FirstName: first, Last: last, Text: req.Text, Payload: req.Start,
			Started: started, Locale: req.Language, Time: now})
		hook = "/hooks/max/" + url.PathEscape(st.Name) + "?bot=" + url.QueryEscape(to)
		chat = "max:" + req.From
		if err == nil {
			err = cl.call(ctx, http.MethodPost, hook, body, nil, "Content-Type", "application/json", "X-Max-Bot-Api-Secret", st.Messenger("max").Secret)
		}
	default:
		var c config.MessengerAccount
		for _, a := range st.Messenger("vk").Communities {
			if strings.EqualFold(a.Name, to) {
				c = a
			}
		}
		group, _ := strconv.ParseInt(c.ID, 10, 64)
		body, err = VKWebhook(VKMessage{GroupID: group, FromID: id, ID: randomID() % 1_000_000_000, Text: req.Text, Ref: req.Start,
			Secret: c.Secret, Time: now})
		hook, chat = "/hooks/vk/"+url.PathEscape(st.Name), "vk:"+req.From
		if err == nil {
			err = cl.call(ctx, http.MethodPost, hook, body, nil, "Content-Type", "application/json")
		}
	}
	if err != nil {
		return "", "", nil, fmt.Errorf("demo send: %w", err)
	}
	return chat, hook, body, nil
}
