package dashboard

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector/httperr"
	"github.com/messtrack/messtrack/store"
)

// Dashboard sign-in: an operator signs in with a site and that site's API
// key and gets a session kept in Redis; the browser holds only a random
// secret in an HttpOnly cookie. Every form carries the session's CSRF token,
// and the sign-in form, which has no session yet, a token bound to a
// short-lived cookie of its own.
const (
	// SessionTTL is how long a sign-in lasts; operators sign in again
	// each working day.
	SessionTTL = 12 * time.Hour
	// SessionCookie holds "site.secret".
	SessionCookie = "mt_dash"
	// LoginCookie holds the sign-in form's CSRF token.
	LoginCookie = "mt_dash_login"
	loginTTL    = time.Hour
	cookiePath  = "/dashboard/"
	// FailLimit wrong keys from one address lock that address out of
	// the site's sign-in for failWindow: the key cannot be guessed
	// online.
	FailLimit  = 10
	failWindow = 15 * time.Minute
	// localSession is the c.Locals key of the signed-in session.
	localSession = "messtrack.dash"
	// csrfField is the hidden form field every dashboard form posts.
	csrfField = "csrf"
)

// session is a signed-in operator's session.
type session struct {
	Site string `json:"-"`
	// CSRF is the token every form of this session must post back.
	CSRF    string `json:"csrf"`
	Created int64  `json:"created"`
	Expires int64  `json:"expires"`
}

// randomToken returns n random bytes, base64url-encoded.
func randomToken(n int) (string, error) {
	buf := make([]byte, n)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("randomToken: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(buf), nil
}

// secretHash is what Redis keys a session by, so a copy of the database
// holds no usable cookie.
func secretHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// tokensEqual compares two secrets in constant time.
func tokensEqual(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// secureCookies says whether cookies get the Secure flag: when the request
// came over TLS, or the collector's public address is https (behind a
// proxy that ends TLS).
func (d *Dashboard) secureCookies(c *fiber.Ctx) bool {
	return c.Protocol() == "https" || strings.HasPrefix(d.publicURL, "https://")
}

func (d *Dashboard) setCookie(c *fiber.Ctx, name, value string, ttl time.Duration) {
	c.Cookie(&fiber.Cookie{
		Name: name, Value: value, Path: cookiePath,
		MaxAge: int(ttl / time.Second), Expires: d.clock.Now().Add(ttl),
		Secure: d.secureCookies(c), HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode,
	})
}

func (d *Dashboard) clearCookie(c *fiber.Ctx, name string) {
	c.Cookie(&fiber.Cookie{
		Name: name, Value: "", Path: cookiePath, MaxAge: -1,
		Expires: time.Unix(1, 0), Secure: d.secureCookies(c), HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode,
	})
}

// createSession starts a session for site and sets its cookie.
func (d *Dashboard) createSession(ctx context.Context, c *fiber.Ctx, site string) (*session, error) {
	secret, err := randomToken(32)
	if err != nil {
		return nil, fmt.Errorf("createSession: %w", err)
	}
	csrf, err := randomToken(32)
	if err != nil {
		return nil, fmt.Errorf("createSession: %w", err)
	}
	now := d.clock.Now()
	sess := &session{Site: site, CSRF: csrf, Created: now.Unix(), Expires: now.Add(SessionTTL).Unix()}
	b, err := json.Marshal(sess)
	if err != nil {
		return nil, fmt.Errorf("createSession: %w", err)
	}
	if err := d.rdb.Set(ctx, store.DashboardSession(site, secretHash(secret)), b, SessionTTL).Err(); err != nil {
		return nil, fmt.Errorf("createSession: set: %w", err)
	}
	d.setCookie(c, SessionCookie, site+"."+secret, SessionTTL)
	return sess, nil
}

// errNoSession means the request carries no live session.
var errNoSession = errors.New("no dashboard session")

// loadSession returns the session the request's cookie names.
func (d *Dashboard) loadSession(ctx context.Context, c *fiber.Ctx) (*session, string, error) {
	site, secret, ok := strings.Cut(c.Cookies(SessionCookie), ".")
	if !ok || secret == "" {
		return nil, "", errNoSession
	}
	if _, err := d.site(site); err != nil {
		return nil, "", errNoSession
	}
	key := store.DashboardSession(site, secretHash(secret))
	b, err := d.rdb.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, "", errNoSession
	}
	if err != nil {
		return nil, "", fmt.Errorf("loadSession: get: %w", err)
	}
	sess := &session{}
	if err := json.Unmarshal(b, sess); err != nil {
		return nil, "", fmt.Errorf("loadSession: %w", err)
	}
	// Redis expires the key in real time; the clock check makes the
	// lifetime hold under the injected clock too.
	if d.clock.Now().Unix() >= sess.Expires {
		return nil, "", errNoSession
	}
	sess.Site = strings.Clone(site)
	return sess, key, nil
}

// requireSession guards every dashboard page but sign-in: without a
// session a GET goes to the sign-in form, anything else is refused. Every
// POST must carry the session's CSRF token.
func (d *Dashboard) requireSession(c *fiber.Ctx) error {
	sess, _, err := d.loadSession(c.UserContext(), c)
	if errors.Is(err, errNoSession) {
		if c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead {
			return c.Redirect("/dashboard/signin", fiber.StatusSeeOther)
		}
		return httperr.Fail(httperr.ErrUnauthorized, "sign in to the dashboard first")
	}
	if err != nil {
		return err
	}
	if c.Method() == fiber.MethodPost {
		if err := checkSameOrigin(c); err != nil {
			return err
		}
		if !tokensEqual(c.FormValue(csrfField), sess.CSRF) {
			return httperr.Fail(httperr.ErrForbidden, "the form's security token is missing or stale: reload the page and try again")
		}
	}
	c.Locals(localSession, sess)
	return c.Next()
}

// checkSameOrigin refuses a POST whose Origin header names another site.
// Browsers send Origin on every cross-site POST; it backs up the CSRF token.
// "null" (a privacy setting or a sandboxed frame) tells nothing either way,
// so there the token alone decides.
func checkSameOrigin(c *fiber.Ctx) error {
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" || origin == "null" || origin == c.BaseURL() {
		return nil
	}
	return httperr.Fail(httperr.ErrForbidden, "the form was posted from another site")
}

// currentSession returns the session requireSession checked.
func currentSession(c *fiber.Ctx) *session {
	sess, _ := c.Locals(localSession).(*session)
	return sess
}

// signInPage is the sign-in form's data. The operator types the site's
// name: the form never lists the configured sites, which would tell anyone
// who the collector's customers are.
type signInPage struct {
	Site  string
	Error string
	CSRF  string
}

// handleSignInForm shows the sign-in form with a fresh login CSRF token.
func (d *Dashboard) handleSignInForm(c *fiber.Ctx) error {
	if sess, _, err := d.loadSession(c.UserContext(), c); err == nil && sess != nil {
		return c.Redirect("/dashboard/", fiber.StatusSeeOther)
	}
	return d.renderSignIn(c, fiber.StatusOK, "", "")
}

func (d *Dashboard) renderSignIn(c *fiber.Ctx, status int, site, msg string) error {
	token, err := randomToken(24)
	if err != nil {
		return err
	}
	d.setCookie(c, LoginCookie, token, loginTTL)
	return d.renderPage(c, status, "signin", pageData{
		Title: "Sign in",
		Body:  signInPage{Site: site, Error: msg, CSRF: token},
	})
}

// handleSignIn checks the site's key in constant time and starts a session.
func (d *Dashboard) handleSignIn(c *fiber.Ctx) error {
	ctx := c.UserContext()
	if err := checkSameOrigin(c); err != nil {
		return err
	}
	if !tokensEqual(c.FormValue(csrfField), c.Cookies(LoginCookie)) {
		return httperr.Fail(httperr.ErrForbidden, "the form's security token is missing or stale: reload the page and try again")
	}
	siteName := strings.Clone(c.FormValue("site"))
	key := c.FormValue("key")
	st, err := d.site(siteName)
	if err != nil {
		// The same answer as a wrong key, name kept: the form must not tell
		// which names are sites.
		return d.renderSignIn(c, fiber.StatusUnauthorized, httperr.Clip(siteName, 63), "Unknown site or wrong key.")
	}
	failKey := store.DashboardSignInFailures(st.Name, d.clientKey(d.clientIP(c)))
	fails, err := d.rdb.Get(ctx, failKey).Int()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("handleSignIn: get failures: %w", err)
	}
	if fails >= FailLimit {
		return d.renderSignIn(c, fiber.StatusTooManyRequests, siteName, "Too many wrong keys from this address: try again in 15 minutes.")
	}
	if subtle.ConstantTimeCompare([]byte(key), []byte(st.APIKey)) != 1 {
		pipe := d.rdb.TxPipeline()
		pipe.Incr(ctx, failKey)
		pipe.ExpireNX(ctx, failKey, failWindow)
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("handleSignIn: count failure: %w", err)
		}
		d.log.Info("dashboard sign-in refused", "site", st.Name, "ip", d.clientIP(c))
		return d.renderSignIn(c, fiber.StatusUnauthorized, siteName, "Unknown site or wrong key.")
	}
	if _, err := d.createSession(ctx, c, st.Name); err != nil {
		return err
	}
	d.clearCookie(c, LoginCookie)
	return c.Redirect("/dashboard/", fiber.StatusSeeOther)
}

// handleSignOut ends the session on the server, not only in the browser.
func (d *Dashboard) handleSignOut(c *fiber.Ctx) error {
	_, key, err := d.loadSession(c.UserContext(), c)
	if err != nil {
		return err
	}
	if err := d.rdb.Del(c.UserContext(), key).Err(); err != nil {
		return fmt.Errorf("handleSignOut: del: %w", err)
	}
	d.clearCookie(c, SessionCookie)
	return c.Redirect("/dashboard/signin", fiber.StatusSeeOther)
}
