package collector

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/config"
)

// The WhatsApp Cloud API webhook: the verification handshake (GET) and the
// signed notifications (POST), field names as in Meta's webhook reference.

// waPayload is a webhook notification: entries of changes, each with the
// messages, contacts and statuses of one business number.
type waPayload struct {
	Object string `json:"object"`
	Entry  []struct {
		ID      string `json:"id"`
		Changes []struct {
			Field string  `json:"field"`
			Value waValue `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

type waValue struct {
	Metadata struct {
		DisplayPhoneNumber string `json:"display_phone_number"`
		PhoneNumberID      string `json:"phone_number_id"`
	} `json:"metadata"`
	Contacts []waContact      `json:"contacts"`
	Messages []waMessage      `json:"messages"`
	Statuses []map[string]any `json:"statuses"`
}

// waContact is the sender: wa_id is the phone in digits, user_id the
// business-scoped user ID, which comes alone for users who hide their
// number behind a username.
type waContact struct {
	Profile struct {
		Name     string `json:"name"`
		Username string `json:"username"`
	} `json:"profile"`
	WaID   string `json:"wa_id"`
	UserID string `json:"user_id"`
}

type waMessage struct {
	From       string        `json:"from"`
	FromUserID string        `json:"from_user_id"`
	GroupID    string        `json:"group_id"`
	ID         string        `json:"id"`
	Timestamp  flexibleUnix  `json:"timestamp"`
	Type       string        `json:"type"`
	Text       *waText       `json:"text"`
	Image      *waMedia      `json:"image"`
	Video      *waMedia      `json:"video"`
	Document   *waMedia      `json:"document"`
	Button     *waButton     `json:"button"`
	Inter      *waInteractiv `json:"interactive"`
	Referral   *adReferral   `json:"referral"`
	waNoticeFields
}

type waText struct {
	Body string `json:"body"`
}

type waMedia struct {
	Caption string `json:"caption"`
}

type waButton struct {
	Text    string `json:"text"`
	Payload string `json:"payload"`
}

type waInteractiv struct {
	Type        string `json:"type"`
	ButtonReply *struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	} `json:"button_reply"`
	ListReply *struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	} `json:"list_reply"`
}

// flexibleUnix is a Unix time in seconds sent as a string (as Meta does) or
// as a number.
type flexibleUnix int64

func (f *flexibleUnix) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*f = 0
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return errors.New("timestamp is not Unix seconds")
	}
	*f = flexibleUnix(v)
	return nil
}

// text is what the person wrote or chose: text body, media caption, or the
// label of a button or list row they tapped.
func (m *waMessage) text() string {
	switch {
	case m.Text != nil:
		return m.Text.Body
	case m.Image != nil:
		return m.Image.Caption
	case m.Video != nil:
		return m.Video.Caption
	case m.Document != nil:
		return m.Document.Caption
	case m.Button != nil:
		return m.Button.Text
	case m.Inter != nil && m.Inter.ButtonReply != nil:
		return m.Inter.ButtonReply.Title
	case m.Inter != nil && m.Inter.ListReply != nil:
		return m.Inter.ListReply.Title
	}
	return ""
}

// challengeRE is what a verification challenge may be; it is echoed back,
// so nothing else is.
var challengeRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// handleWhatsAppVerify answers Meta's subscription handshake: the challenge
// when the verify token is the site's, 403 otherwise.
func (s *Server) handleWhatsAppVerify(c *fiber.Ctx) error {
	st, err := s.siteParam(c)
	if err != nil {
		return err
	}
	want := st.cfg.WhatsAppVerifyToken
	token := c.Query("hub.verify_token")
	if want == "" || c.Query("hub.mode") != "subscribe" ||
		subtle.ConstantTimeCompare([]byte(token), []byte(want)) != 1 {
		return fail(ErrForbidden, "verification refused: wrong hub.mode or hub.verify_token")
	}
	challenge := c.Query("hub.challenge")
	if !challengeRE.MatchString(challenge) {
		return fail(ErrBadInput, "hub.challenge is missing or not a token")
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	return c.SendString(challenge)
}

// validHubSignature checks X-Hub-Signature-256 over the raw body as sent:
// Meta signs its own \u-escaped bytes, so the body is never re-encoded.
func validHubSignature(secret string, body []byte, header string) bool {
	sig, ok := strings.CutPrefix(strings.TrimSpace(header), "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// hookAnswer is what the webhooks answer: counts, for the platform's logs
// and for tests.
type hookAnswer struct {
	Received   int `json:"received"`
	Duplicates int `json:"duplicates"`
	Ignored    int `json:"ignored"`
}

func (s *Server) handleWhatsApp(c *fiber.Ctx) error {
	st, err := s.siteParam(c)
	if err != nil {
		return err
	}
	if st.cfg.WhatsAppAppSecret == "" {
		return fail(ErrForbidden, "this site has no whatsapp_app_secret: its WhatsApp webhook is off")
	}
	body := c.Body()
	if !validHubSignature(st.cfg.WhatsAppAppSecret, body, c.Get("X-Hub-Signature-256")) {
		return fail(ErrForbidden, "missing or wrong X-Hub-Signature-256")
	}
	var p waPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return fail(ErrBadInput, "malformed WhatsApp notification: %s", jsonProblem(err))
	}
	var ans hookAnswer
	for _, e := range p.Entry {
		for _, ch := range e.Changes {
			if ch.Field != "messages" {
				ans.Ignored++
				continue
			}
			ans.Ignored += len(ch.Value.Statuses)
			for i := range ch.Value.Messages {
				in := s.whatsAppInbound(&ch.Value, &ch.Value.Messages[i])
				if in == nil {
					ans.Ignored++
					continue
				}
				if ns := whatsAppNotice(&ch.Value.Messages[i], in); ns != nil {
					if err := s.takeNotices(c.UserContext(), st, ns, &ans); err != nil {
						return err
					}
					continue
				}
				res, err := s.receive(c.UserContext(), st, in)
				if err != nil {
					return err
				}
				if res.Duplicate {
					ans.Duplicates++
				} else {
					ans.Received++
				}
			}
		}
	}
	return c.JSON(ans)
}

// whatsAppInbound turns one message of a notification into the matcher's
// form, or nil for what is not a person's message in a one-to-one chat.
func (s *Server) whatsAppInbound(val *waValue, m *waMessage) *inbound {
	if m.Type == "system" || m.GroupID != "" {
		return nil
	}
	contact := findContact(val.Contacts, m)
	in := &inbound{Messenger: "whatsapp", Text: m.text(), Referral: m.Referral}
	if m.ID != "" {
		in.MessageID = "wa:" + m.ID
	}
	waID, userID := m.From, m.FromUserID
	if contact != nil {
		in.Name, in.Username = contact.Profile.Name, contact.Profile.Username
		if contact.WaID != "" {
			waID = contact.WaID
		}
		if userID == "" {
			userID = contact.UserID
		}
	}
	switch {
	case waID != "":
		in.Chat = "whatsapp:" + cleanName(waID)
		if d, err := config.Digits(waID); err == nil {
			in.Phone = d
		}
	case userID != "":
		in.Chat = "whatsapp:" + cleanName(userID)
		// A business-scoped user ID starts with the user's country:
		// "US.13491208655302741918".
		if cc, _, ok := strings.Cut(userID, "."); ok && len(cc) == 2 {
			in.Country = strings.ToUpper(cc)
		}
	default:
		s.log.Warn("WhatsApp message without sender ignored", "id", m.ID)
		return nil
	}
	if d, err := config.Digits(val.Metadata.DisplayPhoneNumber); err == nil {
		in.Target = "whatsapp:" + d
	}
	in.Time, in.PlatformTime = messageTime(time.Unix(int64(m.Timestamp), 0), s.clock.Now())
	return in
}

// findContact returns the contacts entry of the message's sender.
func findContact(contacts []waContact, m *waMessage) *waContact {
	for i := range contacts {
		c := &contacts[i]
		if (m.From != "" && c.WaID == m.From) || (m.FromUserID != "" && c.UserID == m.FromUserID) {
			return c
		}
	}
	if len(contacts) == 1 {
		return &contacts[0]
	}
	return nil
}

// jsonProblem says briefly what is wrong with a JSON body, without echoing
// it.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return "syntax error at byte " + strconv.FormatInt(se.Offset, 10)
	case errors.As(err, &te):
		if te.Field != "" {
			return "field " + strconv.Quote(clip(te.Field, 60)) + " has the wrong type"
		}
		return "a value has the wrong type"
	}
	return "invalid content"
}
