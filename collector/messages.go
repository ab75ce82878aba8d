package collector

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/collector/inbound"
	"github.com/messtrack/messtrack/collector/visit"
)

// POST /v1/sites/{site}/messages: the first message (or any message) of a
// chat on any platform, in the generic form README.md documents;
// inbound.ReadGeneric checks it.

// maxMessageBody bounds a generic message: a long first message fits.
const maxMessageBody = 64 << 10

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
	GAClientID    string `json:"ga_client_id,omitempty"`
	YMClientID    string `json:"ym_client_id,omitempty"`
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
		GAClientID: v.GAClientID, YMClientID: v.YMClientID,
	}
}

func (s *Server) handleMessage(c *fiber.Ctx) error {
	st := authedSite(c)
	var req inbound.Generic
	if err := readJSON(c, maxMessageBody, &req); err != nil {
		return err
	}
	in, n, err := inbound.ReadGeneric(&req, s.clock.Now())
	if err != nil {
		return err
	}
	if n != nil {
		return s.handleGenericNotice(c, st, n)
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
