package wabiz

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/collector/httperr"
	"github.com/messtrack/messtrack/reports"
)

// maxRequest bounds the bodies of the send and record endpoints.
const maxRequest = 64 << 10

// Register adds the endpoints to r, behind guard (the site's key check);
// siteOf names the site guard let through. Register them before a route
// that takes any report name.
//
//	POST /v1/sites/{site}/whatsapp/send       a template through the Cloud API
//	POST /v1/sites/{site}/whatsapp/outbound   record a message sent elsewhere
//	GET  /v1/sites/{site}/reports/whatsapp    free and paid units, spend
//	GET  /v1/sites/{site}/reports/templates   per template
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
	r.Get(base+"/reports/whatsapp", guard, func(c *fiber.Ctx) error {
		return s.report(c, siteOf(c), "whatsapp", func(rg reports.Range) (reports.Table, error) {
			return s.WhatsApp(c.UserContext(), siteOf(c), rg, c.Query("by"))
		})
	})
	r.Get(base+"/reports/templates", guard, func(c *fiber.Ctx) error {
		return s.report(c, siteOf(c), "templates", func(rg reports.Range) (reports.Table, error) {
			return s.Templates(c.UserContext(), siteOf(c), rg, c.Query("template"))
		})
	})
}

// decode reads a JSON body of at most maxRequest bytes.
func decode(c *fiber.Ctx, into any) error {
	body := c.Body()
	if len(body) > maxRequest {
		return httperr.Fail(httperr.ErrTooLarge, "the body is over %d bytes", maxRequest)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return httperr.Fail(httperr.ErrBadInput, "the body is not the expected JSON object: %s", httperr.Clip(err.Error(), 120))
	}
	return nil
}

// report answers a report as JSON or CSV (format=json|csv), over
// ?from=&to= like every report.
func (s *Service) report(c *fiber.Ctx, site, name string, build func(reports.Range) (reports.Table, error)) error {
	format := c.Query("format", "json")
	if format != "json" && format != "csv" {
		return httperr.Fail(httperr.ErrBadInput, "format=%q is not json or csv", httperr.Clip(format, 16))
	}
	if s.reports == nil {
		return errors.New("wabiz: no reports store to read ranges")
	}
	rg, err := s.reports.Range(site, c.Query("from"), c.Query("to"))
	if err != nil {
		return clientError(err)
	}
	rep, err := build(rg)
	if err != nil {
		return clientError(err)
	}
	if format == "json" {
		return c.JSON(rep)
	}
	var buf bytes.Buffer
	if err := reports.WriteCSV(&buf, rep); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s-%s-%s_%s.csv"`, site, name, rg.From, rg.To))
	return c.Send(buf.Bytes())
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
