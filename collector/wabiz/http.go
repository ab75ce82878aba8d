package wabiz

import (
	"context"
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/collector/httperr"
	"github.com/messtrack/messtrack/reports"
)

// maxRequest bounds the bodies of the send and record endpoints.
const maxRequest = 64 << 10

// Register adds the endpoints to r, behind guard (the site's key check);
// siteOf names the site guard let through. The whatsapp and templates
// reports are served with every other report, through Report.
//
//	POST /v1/sites/{site}/whatsapp/send       a template through the Cloud API
//	POST /v1/sites/{site}/whatsapp/outbound   record a message sent elsewhere
func (s *Service) Register(r fiber.Router, guard fiber.Handler, siteOf func(*fiber.Ctx) string) {
	const base = "/v1/sites/:site"
	r.Post(base+"/whatsapp/send", guard, func(c *fiber.Ctx) error {
		var req SendRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		res, err := s.Send(c.UserContext(), siteOf(c), req)
		if err != nil {
			return clientError(err)
		}
		return c.JSON(res)
	})
	r.Post(base+"/whatsapp/outbound", guard, func(c *fiber.Ctx) error {
		var o Outbound
		if err := decode(c, &o); err != nil {
			return err
		}
		if err := s.Record(c.UserContext(), siteOf(c), o); err != nil {
			return clientError(err)
		}
		return c.JSON(fiber.Map{"recorded": o.MessageID})
	})
}

// decode reads a JSON body of at most maxRequest bytes, refusing unknown
// fields.
func decode(c *fiber.Ctx, into any) error {
	return httperr.DecodeStrictJSON(c.Body(), maxRequest, "the expected JSON object", into)
}

// ReportNames are the reports Report builds.
const ReportNames = "whatsapp, templates"

// Report builds the named report over rg, with its own query parameters
// read through query (whatsapp: by=category|source; templates:
// template=), for the server's one report endpoint, which answers it as
// JSON or CSV like every report. ok is false for a name it does not know;
// errors are already what the client should see.
func (s *Service) Report(ctx context.Context, site, name string, rg reports.Range, query func(string, ...string) string) (reports.Table, bool, error) {
	switch name {
	case "whatsapp":
		rep, err := s.WhatsApp(ctx, site, rg, query("by"))
		if err != nil {
			return nil, true, clientError(err)
		}
		return rep, true, nil
	case "templates":
		rep, err := s.Templates(ctx, site, rg, query("template"))
		if err != nil {
			return nil, true, clientError(err)
		}
		return rep, true, nil
	}
	return nil, false, nil
}

// clientError maps the service's errors to what the client sees.
func clientError(err error) error {
	var ie *InputError
	var re *reports.InvalidError
	var ae *APIError
	switch {
	case errors.As(err, &ie):
		return httperr.Fail(httperr.ErrBadInput, "%s", ie.Reason)
	case errors.As(err, &re):
		return httperr.Fail(httperr.ErrBadInput, "%s", re.Reason)
	case errors.Is(err, ErrUnknownSite):
		return httperr.Fail(httperr.ErrUnknownSite, "unknown site")
	case errors.Is(err, ErrNotConfigured):
		return httperr.Fail(httperr.ErrForbidden, "%s", err.Error())
	case errors.As(err, &ae):
		return fiber.NewError(fiber.StatusBadGateway, ae.Error())
	}
	return err
}
