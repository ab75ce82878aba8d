package dashboard

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/collector/httperr"
)

// DeliverySource is what the deliveries page reads and replays: the site's
// outbound deliveries to its webhooks and ad and analytics platforms.
type DeliverySource interface {
	// Deliveries answers the newest deliveries, newest first, of one state
	// (pending, delivered, dead) or of any ("").
	Deliveries(ctx context.Context, site, state string, limit int) ([]Delivery, error)
	// Replay queues a finished delivery again.
	Replay(ctx context.Context, site, id string) error
}

// Delivery is one delivery as the page shows it.
type Delivery struct {
	ID, Type, Target, Chat, State, Error string
	Attempts, Status                     int
	Created, Last, Next, Done            time.Time
}

// deliveriesView is the deliveries page.
type deliveriesView struct {
	Targets  []targetHealth
	Dead     []deliveryRow
	Recent   []deliveryRow
	Replayed bool
}

// targetHealth sums up one target over the newest deliveries.
type targetHealth struct {
	Target                   string
	Delivered, Pending, Dead int
	LastDelivered, LastError string
	Failing                  bool
}

type deliveryRow struct {
	ID, Type, Target, Chat, ChatLink, State, Error, Created, Done string
	Attempts, Status                                              int
}

// healthWindow is how many of the newest deliveries the health table sums.
const healthWindow = 500

func (d *Dashboard) handleDeliveriesPage(c *fiber.Ctx) error {
	st, f, err := d.signedInSite(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	recent, err := d.deliveries.Deliveries(ctx, st.Name, "", healthWindow)
	if err != nil {
		return err
	}
	dead, err := d.deliveries.Deliveries(ctx, st.Name, "dead", 100)
	if err != nil {
		return err
	}
	row := func(x Delivery) deliveryRow {
		return deliveryRow{ID: x.ID, Type: x.Type, Target: x.Target, Chat: x.Chat, ChatLink: ChatLink(x.Chat), State: x.State,
			Error: x.Error, Created: f.Time(x.Created), Done: f.Time(x.Done), Attempts: x.Attempts, Status: x.Status}
	}
	view := deliveriesView{Replayed: c.Query("replayed") == "1"}
	health := map[string]*targetHealth{}
	for _, x := range recent {
		h := health[x.Target]
		if h == nil {
			h = &targetHealth{Target: x.Target}
			health[x.Target] = h
		}
		switch x.State {
		case "delivered":
			h.Delivered++
			if h.LastDelivered == "" {
				h.LastDelivered = f.Time(x.Done)
			}
		case "pending":
			h.Pending++
		case "dead":
			h.Dead++
		}
		if h.LastError == "" && x.Error != "" && x.State != "delivered" {
			h.LastError = x.Error
		}
		if len(view.Recent) < 50 {
			view.Recent = append(view.Recent, row(x))
		}
	}
	for _, h := range health {
		h.Failing = h.Dead > 0 || (h.Pending > 0 && h.LastError != "")
		view.Targets = append(view.Targets, *h)
	}
	slices.SortFunc(view.Targets, func(a, b targetHealth) int { return strings.Compare(a.Target, b.Target) })
	for _, x := range dead {
		view.Dead = append(view.Dead, row(x))
	}
	return d.renderPage(c, fiber.StatusOK, "deliveries", pageData{Title: "Deliveries", Nav: "deliveries", Body: view})
}

// handleReplayPage queues a dead (or delivered) delivery again.
func (d *Dashboard) handleReplayPage(c *fiber.Ctx) error {
	st, _, err := d.signedInSite(c)
	if err != nil {
		return err
	}
	id := strings.Clone(c.FormValue("id"))
	if id == "" || len(id) > 128 || strings.ContainsAny(id, "{}: /%") {
		return httperr.Fail(httperr.ErrBadInput, "the form needs a delivery ID")
	}
	if err := d.deliveries.Replay(c.UserContext(), st.Name, id); err != nil {
		return err
	}
	return c.Redirect("/dashboard/deliveries?replayed=1", fiber.StatusSeeOther)
}
