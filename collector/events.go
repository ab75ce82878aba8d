package collector

import (
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/reports"
)

// maxEventBody caps an event or a conversion-event choice: a few fields.
const maxEventBody = 16 << 10

// eventFutureSkew is how far ahead of the collector's clock an event's time
// may be: a CRM's clock may run a little fast, a date years ahead is a bug.
const eventFutureSkew = 5 * time.Minute

// eventRequest is a business event from a CRM, a bot or a help desk.
type eventRequest struct {
	Chat     string  `json:"chat"`
	Category string  `json:"category"`
	Time     string  `json:"time"`
	Value    float64 `json:"value"`
	ID       string  `json:"id"`
}

// eventResponse says what the event did.
type eventResponse struct {
	Chat string `json:"chat"`
	reports.EventResult
}

// handleEvent takes POST /v1/sites/:site/events: the event converts the
// chat's open session when its category is the conversion event in force at
// its time; the answer says so, or why not.
func (s *Server) handleEvent(c *fiber.Ctx) error {
	st := authedSite(c)
	var req eventRequest
	if err := readJSON(c, maxEventBody, &req); err != nil {
		return err
	}
	chat := strings.TrimSpace(req.Chat)
	if chat == "" || len(chat) > 256 || strings.ContainsFunc(chat, isControl) {
		return fail(ErrBadInput, "chat must be a chat key like whatsapp:15557654321 (at most 256 characters, no control characters)")
	}
	if len(req.ID) > 128 || strings.ContainsFunc(req.ID, isControl) {
		return fail(ErrBadInput, "id must be at most 128 characters without control characters")
	}
	now := s.clock.Now()
	at := now
	if req.Time != "" {
		t, err := time.Parse(time.RFC3339Nano, req.Time)
		if err != nil {
			return fail(ErrBadInput, "time %q is not an RFC 3339 time like 2026-11-02T09:00:00Z", clip(req.Time, 64))
		}
		if t.After(now.Add(eventFutureSkew)) {
			return fail(ErrBadInput, "time %s is in the future", req.Time)
		}
		at = t
	}
	ev := reports.Event{
		Site: st.cfg.Name, Chat: strings.Clone(chat), Category: strings.Clone(req.Category), Time: at,
		Value: req.Value, ID: strings.Clone(req.ID),
	}
	res, err := s.reports.RecordEvent(c.UserContext(), ev)
	if err != nil {
		return reportsError(err)
	}
	// Sent out before the answer: a failure here makes the sender retry,
	// and the retry enqueues what this one did not.
	if err := s.recordedEvent(c.UserContext(), ev, res); err != nil {
		return err
	}
	return c.JSON(eventResponse{Chat: chat, EventResult: res})
}

// conversionEventRequest chooses the conversion event.
type conversionEventRequest struct {
	Category string `json:"category"`
}

// conversionEventResponse is the conversion event's history.
type conversionEventResponse struct {
	Current string                     `json:"current"`
	History []reports.ConversionChoice `json:"history"`
}

// handleSetConversionEvent takes PUT /v1/sites/:site/conversion-event: the
// category counts as a conversion from now on; conversions counted under
// the previous one stay.
func (s *Server) handleSetConversionEvent(c *fiber.Ctx) error {
	st := authedSite(c)
	var req conversionEventRequest
	if err := readJSON(c, maxEventBody, &req); err != nil {
		return err
	}
	if err := s.reports.SetConversionEvent(c.UserContext(), st.cfg.Name, strings.Clone(req.Category)); err != nil {
		return reportsError(err)
	}
	return s.handleConversionEvent(c)
}

// handleConversionEvent answers GET /v1/sites/:site/conversion-event with
// the history of choices.
func (s *Server) handleConversionEvent(c *fiber.Ctx) error {
	st := authedSite(c)
	hist, err := s.reports.ConversionEvents(c.UserContext(), st.cfg.Name)
	if err != nil {
		return reportsError(err)
	}
	resp := conversionEventResponse{History: hist}
	if len(hist) > 0 {
		resp.Current = hist[len(hist)-1].Category
	}
	return c.JSON(resp)
}

// reportsError turns the reports package's input errors into client errors;
// anything else stays internal.
func reportsError(err error) error {
	var ie *reports.InvalidError
	var re *reports.CostRowsError
	switch {
	case errors.As(err, &re):
		return fail(ErrBadInput, "%s", re.Error())
	case errors.As(err, &ie):
		return fail(ErrBadInput, "%s", ie.Reason)
	}
	return err
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }
