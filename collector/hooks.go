package collector

import "github.com/gofiber/fiber/v2"

// routesHooks registers the inbound messages: the messengers' webhooks
// (whatsapp.go, telegram.go, and every other messenger's through
// messengers.go) and the generic messages API (messages.go).
// Each answers 2xx only once replicas hold what it stored (acked.go).
// Each handler checks the signature or key, hands the body to its
// translator in collector/inbound, and receives the result (chats.go).
func (s *Server) routesHooks(r fiber.Router) {
	r.Get("/hooks/whatsapp/:site", s.handleWhatsAppVerify)
	r.Post("/hooks/whatsapp/:site", s.acked, s.handleWhatsApp)
	r.Post("/hooks/telegram/:site", s.acked, s.handleTelegram)
	r.Post("/v1/sites/:site/messages", s.acked, s.requireKey, s.handleMessage)
	s.routesMessengers(r)
}
