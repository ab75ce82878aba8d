// Package wabiz is WhatsApp Business analytics: what became of the
// business's own messages (the Cloud API's sent, delivered, read and failed
// statuses), what they cost by the site's rate card, and how each template
// does (sent, delivered, read, failed, replied, clicked, cost).
//
// Every fact about one outbound message (a status, the record of its
// template, a reply) is merged into that message's state (Msg); the
// counters it adds (Contributions, pure) are recomputed from the whole
// state, and the update script moves the day counters by the difference.
// So the counts depend on the set of facts, never on their order or on how
// often a platform redelivers them.
//
// Send calls the Cloud API for one template message and records it, for the
// HTTP endpoints here and for any other caller (a send-back widget).
package wabiz
