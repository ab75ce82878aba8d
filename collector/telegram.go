package collector

import (
	"crypto/subtle"

	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/collector/inbound"
)

// The Telegram Bot API webhook. Telegram signs nothing: the secret token
// set with setWebhook comes back in a header, and that is the only check.
// The setWebhook URL names the bot (?bot=NAME) since one site may run
// several; business messages (a bot connected to a business account) go to
// the site's first configured user account unless ?user=NAME.
// inbound.ReadTelegram reads an update.

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
	bot, ok := inbound.TelegramAccount(c.Query("bot"), st.cfg.Telegram.Bots, srcBots)
	if !ok {
		return fail(ErrBadInput, "bot %q is not configured for this site", clip(c.Query("bot"), 40))
	}
	user, ok := inbound.TelegramAccount(c.Query("user"), st.cfg.Telegram.Users, srcUsers)
	if !ok {
		return fail(ErrBadInput, "user %q is not configured for this site", clip(c.Query("user"), 40))
	}
	u, err := inbound.ReadTelegram(c.Body(), bot, user, s.clock.Now())
	if err != nil {
		return err
	}
	if u.Message == nil {
		var ans hookAnswer
		if u.Notices == nil {
			ans.Ignored = 1
		} else if err := s.takeNotices(c.UserContext(), st, u.Notices, &ans); err != nil {
			return err
		}
		return c.JSON(ans)
	}
	res, err := s.receive(c.UserContext(), st, u.Message)
	if err != nil {
		return err
	}
	if res.Duplicate {
		return c.JSON(hookAnswer{Duplicates: 1})
	}
	return c.JSON(hookAnswer{Received: 1})
}
