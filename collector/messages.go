package collector

import (
	"regexp"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/config"
)

// POST /v1/sites/{site}/messages: the first message (or any message) of a
// chat on any platform, in the generic form README.md documents.

// maxMessageBody bounds a generic message: a long first message fits.
const maxMessageBody = 64 << 10

// messageRequest is the generic message.
type messageRequest struct {
	Channel string `json:"channel"`
	From    string `json:"from"`
	To      string `json:"to"`
	Text    string `json:"text"`
	Time    string `json:"time"`
	Name    string `json:"name"`
	noticeRequest
}

// messageResponse is the match of a generic message.
type messageResponse struct {
	Chat       string     `json:"chat"`
	Method     string     `json:"method"`
	Confidence float64    `json:"confidence"`
	Visit      *visitView `json:"visit"`
	NewChat    bool       `json:"new_chat"`
}

// visitView is a visit as the API shows it.
type visitView struct {
	ID            string `json:"id"`
	Time          string `json:"time"`
	Page          string `json:"page,omitempty"`
	LandingPage   string `json:"landing_page,omitempty"`
	Referrer      string `json:"referrer,omitempty"`
	Channel       string `json:"channel,omitempty"`
	UTMSource     string `json:"utm_source,omitempty"`
	UTMMedium     string `json:"utm_medium,omitempty"`
	UTMCampaign   string `json:"utm_campaign,omitempty"`
	UTMContent    string `json:"utm_content,omitempty"`
	UTMTerm       string `json:"utm_term,omitempty"`
	ClickIDKind   string `json:"click_id_kind,omitempty"`
	ClickID       string `json:"click_id,omitempty"`
	OfflineSource string `json:"offline_source,omitempty"`
	Country       string `json:"country,omitempty"`
	Region        string `json:"region,omitempty"`
	City          string `json:"city,omitempty"`
	Language      string `json:"language,omitempty"`
	TimeZone      string `json:"time_zone,omitempty"`
	Screen        string `json:"screen,omitempty"`
	OS            string `json:"os,omitempty"`
	Browser       string `json:"browser,omitempty"`
	Device        string `json:"device,omitempty"`
	// Expires is set where the view answers for a live visit.
	Expires string `json:"expires,omitempty"`
}

func viewVisit(st *site, v *visit.Visit) *visitView {
	if v == nil {
		return nil
	}
	return &visitView{
		ID: st.codec.VisitID(v.N), Time: v.Time.UTC().Format(time.RFC3339), Page: v.Page, LandingPage: v.Landing,
		Referrer: v.Referrer, Channel: v.Channel, UTMSource: v.UTMSource, UTMMedium: v.UTMMedium,
		UTMCampaign: v.UTMCampaign, UTMContent: v.UTMContent, UTMTerm: v.UTMTerm, ClickIDKind: v.ClickIDKind,
		ClickID: v.ClickID, OfflineSource: v.Source, Country: v.Country, Region: v.Region, City: v.City,
		Language: v.Language, TimeZone: v.TimeZone, Screen: v.Screen, OS: v.OS, Browser: v.Browser, Device: v.Device,
	}
}

var channelRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)

// genericInbound checks a generic message and turns it into the matcher's
// form.
func (s *Server) genericInbound(req *messageRequest) (*inbound, error) {
	channel := strings.ToLower(strings.TrimSpace(req.Channel))
	if !channelRE.MatchString(channel) {
		return nil, fail(ErrBadInput, "channel %q is not a name like whatsapp, telegram or viber", clip(req.Channel, 40))
	}
	from := strings.TrimSpace(req.From)
	in := &inbound{Messenger: channel, Name: req.Name, Text: req.Text, Time: s.clock.Now().UTC()}
	// A phone number as people write it becomes its digits; any other
	// sender ID is taken as it is, if it is one token.
	if d, err := config.Digits(from); err == nil && channel != "telegram" {
		from, in.Phone = d, d
	}
	if from == "" || len(from) > 128 || cleanName(from) != from || strings.ContainsAny(from, " /") {
		return nil, fail(ErrBadInput, "from is required: the sender's ID on the channel, without spaces or control characters")
	}
	if req.Time != "" {
		t, err := time.Parse(time.RFC3339, req.Time)
		if err != nil {
			return nil, fail(ErrBadInput, "time %q is not an RFC 3339 time", clip(req.Time, 40))
		}
		in.Time, in.PlatformTime = messageTime(t, in.Time)
	}
	in.Chat = channel + ":" + from
	to := strings.TrimSpace(req.To)
	switch {
	case to == "":
	case channel == "whatsapp" || channel == "telegram":
		in.Target = normalizeTarget(channel + ":" + to)
		if in.Target == "" {
			return nil, fail(ErrBadInput, "to %q is not a %s number or username", clip(to, 40), channel)
		}
	default:
		if len(to) > 128 || cleanName(to) != to {
			return nil, fail(ErrBadInput, "to is longer than 128 bytes or holds control characters")
		}
		if d, err := config.Digits(to); err == nil {
			to = d
		}
		in.Target = channel + ":" + strings.ToLower(to)
	}
	if channel == "telegram" {
		bot := strings.TrimPrefix(in.Target, "telegram:")
		in.Start, in.HasStart = startPayload(in.Text, bot)
	}
	return in, nil
}

func (s *Server) handleMessage(c *fiber.Ctx) error {
	st := authedSite(c)
	var req messageRequest
	if err := readJSON(c, maxMessageBody, &req); err != nil {
		return err
	}
	in, err := s.genericInbound(&req)
	if err != nil {
		return err
	}
	kind, err := genericKind(req.Kind)
	if err != nil {
		return err
	}
	if in.MessageID, err = genericID("id", in.Messenger, strings.TrimSpace(req.ID)); err != nil {
		return err
	}
	if kind != kindMessage {
		return s.handleGenericNotice(c, st, &req, kind, in)
	}
	res, err := s.receive(c.UserContext(), st, in)
	if err != nil {
		return err
	}
	return c.JSON(messageResponse{
		Chat: res.Chat, Method: res.Method, Confidence: res.Confidence,
		Visit: viewVisit(st, res.Visit), NewChat: res.NewChat,
	})
}
