package e2e

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/e2e/e2eproc"
	"github.com/messtrack/messtrack/store"
)

var image = &imageRoot{}

func TestMain(m *testing.M) {
	code := m.Run()
	if image.dir != "" {
		os.RemoveAll(filepath.Dir(image.dir))
	}
	os.Exit(code)
}

// deployment is the collector from the image's binary, behind Debian's
// nginx running deploy/nginx.conf, on the documented Redis.
type deployment struct {
	public    string // https://[::1]:PORT, the public_url
	shop      string // https://[::1]:PORT2, the shop's own site
	httpPort  int
	collector string // 127.0.0.1:PORT, where nginx proxies to
	config    string
	bin       string
	cert      *x509.Certificate
	certFile  string
	client    *http.Client
	rdb       *redis.Client
}

const (
	apiKey       = "e2e-0123456789abcdef0123456789abcdef"
	appSecret    = "e2e-app-secret"
	verifyToken  = "e2e-verify-token"
	tgSecret     = "e2e-telegram-secret"
	shopNumber   = "15551234567"
	writerNumber = "15557654321"
)

func deploy(t *testing.T) *deployment {
	t.Helper()
	root := image.get(t)
	d := &deployment{bin: filepath.Join(root, "usr", "local", "bin", "messtrack")}
	nginx := e2eproc.LookTool(t, "nginx", "nginx")
	var redisURL string
	d.rdb, redisURL = documentedRedis(t)
	// nginx's workers run as nobody when the test runs as root: they must
	// reach the shop's page, so the folder is not under t.TempDir's
	// private parent.
	dir, err := os.MkdirTemp("", "messtrack-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	httpsPort, shopPort := e2eproc.FreePort(t), e2eproc.FreePort(t)
	d.httpPort = e2eproc.FreePort(t)
	d.public = fmt.Sprintf("https://[::1]:%d", httpsPort)
	d.shop = fmt.Sprintf("https://[::1]:%d", shopPort)
	d.collector = fmt.Sprintf("127.0.0.1:%d", e2eproc.FreePort(t))
	d.certFile, _, d.cert = selfSigned(t, dir, "localhost", "::1")
	keyFile := filepath.Join(dir, "key.pem")

	// The shipped site, moved to free ports on ::1 only (this machine's
	// hosts file names 127.0.0.1 alone as localhost, so the URLs carry the
	// address): browsers reach nginx over IPv6 while nginx reaches the
	// collector over IPv4, so the visitor's address (::1) differs from the
	// proxy's (127.0.0.1).
	site, err := os.ReadFile(filepath.Join(e2eproc.RepoRoot(t), "deploy", "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	siteConf := replaceAll(t, "deploy/nginx.conf", string(site),
		"track.example.com", "localhost",
		"/etc/letsencrypt/live/localhost/fullchain.pem", d.certFile,
		"/etc/letsencrypt/live/localhost/privkey.pem", keyFile,
		"127.0.0.1:8080", d.collector,
		"    listen 80;\n", "",
		"listen [::]:80;", fmt.Sprintf("listen [::1]:%d;", d.httpPort),
		"    listen 443 ssl http2;\n", "",
		"listen [::]:443 ssl http2;", fmt.Sprintf("listen [::1]:%d ssl http2;", httpsPort),
		"/var/www/html", dir,
	)
	shopDir := filepath.Join(dir, "shop")
	if err := os.Mkdir(shopDir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, shopDir, "index.html", `<!doctype html><html><head><meta charset="utf-8"><title>Shop</title></head><body>
<a id="wa" href="https://wa.me/`+shopNumber+`?text=Hello">Write to us on WhatsApp</a>
<div id="qr" data-messtrack-qr="whatsapp:`+shopNumber+`"></div>
<script async src="`+d.public+`/s/shop.js"></script>
</body></html>`)
	var temps strings.Builder
	for _, k := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&temps, "    %s_temp_path %s;\n", k, filepath.Join(dir, k))
	}
	mainConf := writeFile(t, dir, "nginx.conf", `daemon off;
pid `+filepath.Join(dir, "nginx.pid")+`;
error_log `+filepath.Join(dir, "error.log")+` warn;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    access_log `+filepath.Join(dir, "access.log")+`;
`+temps.String()+`
    include `+writeFile(t, dir, "messtrack-site.conf", siteConf)+`;

    server {
        listen [::1]:`+strconv.Itoa(shopPort)+` ssl;
        server_name localhost;
        ssl_certificate `+d.certFile+`;
        ssl_certificate_key `+keyFile+`;
        root `+shopDir+`;
    }
}
`)
	test := exec.Command(nginx, "-t", "-p", dir, "-c", mainConf)
	if out, err := test.CombinedOutput(); err != nil {
		t.Fatalf("nginx -t refuses the shipped site:\n%s\n%s", out, siteConf)
	}
	ngx := e2eproc.Start(t, nil, nginx, "-p", dir, "-c", mainConf)

	d.config = writeFile(t, dir, "messtrack.yaml", `listen: `+d.collector+`
public_url: "`+d.public+`"
redis: `+redisURL+`
trusted_proxies: [127.0.0.1, "::1"]
forwarded_header: X-Forwarded-For
ipv6_prefix: 128
sites:
  shop:
    api_key: `+apiKey+`
    origins: ["`+d.shop+`"]
    whatsapp: [{number: "`+shopNumber+`"}]
    telegram: {bots: [shop_e2e_bot]}
    whatsapp_app_secret: `+appSecret+`
    whatsapp_verify_token: `+verifyToken+`
    telegram_secret_token: `+tgSecret+`
    desktop_qr: true
    conversion_event: purchase
    sources:
      flyer: {channel: offline, number: "`+shopNumber+`", title: Flyer}
`)
	startCollector(t, d.bin, d.config, d.collector)

	pool := x509.NewCertPool()
	pool.AddCert(d.cert)
	d.client = &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		// Redirects are looked at, not followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	ngx.WaitFor(t, func() error {
		resp, err := d.client.Get(d.public + "/healthz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("healthz through nginx: %d", resp.StatusCode)
		}
		return nil
	})
	return d
}

func (d *deployment) do(t *testing.T, method, url, body string, headers ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := d.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusMovedPermanently {
		return resp.StatusCode, resp.Header.Get("Location")
	}
	return resp.StatusCode, string(b)
}

func sign(body string) string {
	m := hmac.New(sha256.New, []byte(appSecret))
	m.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// TestVisitorBehindNginxOverHTTPS: Chromium loads a shop page over HTTPS
// with the snippet tag; through nginx the visit is stored with the
// visitor's own address, every link the snippet and the QR codes make
// points at the public HTTPS URL, and a signed WhatsApp webhook carrying
// the code is matched to the visit; an unsigned one is refused.
func TestVisitorBehindNginxOverHTTPS(t *testing.T) {
	d := deploy(t)
	ctx := headlessChromium(t, chromedp.Flag("ignore-certificate-errors-spki-list", spkiHash(d.cert)))
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(d.shop+"/?utm_source=newsletter&utm_medium=email")); err != nil {
		t.Fatalf("load the shop over HTTPS: %v", err)
	}
	href, err := chromedp.Run(ctx, chromedp.Poll[string](`(() => { const a = document.getElementById("wa"); return a && a.href.includes("%23") ? a.href : ""; })()`,
		chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
		t.Fatalf("the snippet never rewrote the WhatsApp link: %v\n%s", err, page)
	}
	code := regexp.MustCompile(`%23([0-9A-Z]{6,9})`).FindStringSubmatch(href)
	if code == nil {
		t.Fatalf("no code in the rewritten link %s", href)
	}
	qrSrc, err := chromedp.Run(ctx, chromedp.Poll[string](`(() => { const i = document.querySelector("#qr img"); return i && i.src; })()`,
		chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		t.Fatalf("the desktop QR never appeared: %v", err)
	}
	if !strings.HasPrefix(qrSrc, d.public+"/qr/shop/") {
		t.Errorf("desktop QR %s is not on the public URL %s", qrSrc, d.public)
	}
	// A resource shows in the timeline once it has loaded: wait for the
	// QR image's entry before counting.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`performance.getEntriesByType("resource").some(e => e.name.includes("/qr/"))`,
		chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("the desktop QR image never loaded: %v", err)
	}
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`performance.getEntriesByType("resource").map(e => e.name)`))
	if err != nil {
		t.Fatal(err)
	}
	var toCollector int
	for _, u := range loaded {
		if strings.Contains(u, "/s/shop.js") || strings.Contains(u, "/v1/") || strings.Contains(u, "/qr/") {
			toCollector++
			if !strings.HasPrefix(u, d.public+"/") {
				t.Errorf("the page called %s, not the public URL %s", u, d.public)
			}
		}
	}
	if toCollector < 3 {
		t.Errorf("the page made %d calls to the collector (snippet, visit, QR), want 3 or more: %v", toCollector, loaded)
	}
	status, snippet := d.do(t, "GET", d.public+"/s/shop.js", "")
	if status != 200 || !strings.Contains(snippet, d.public) || strings.Contains(snippet, d.collector) {
		t.Errorf("the snippet over HTTPS (%d) does not call the public URL %s:\n%.300s", status, d.public, snippet)
	}

	// The offline source's QR opens the public URL.
	status, pngBody := d.do(t, "GET", d.public+"/v1/sites/shop/qr/flyer.png", "", "Authorization", "Bearer "+apiKey)
	if status != 200 {
		t.Fatalf("source QR: %d %s", status, pngBody)
	}
	img, err := png.Decode(bytes.NewReader([]byte(pngBody)))
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("decode the source QR: %v", err)
	}
	if want := d.public + "/q/shop/flyer"; res.GetText() != want {
		t.Errorf("source QR opens %q, want %q", res.GetText(), want)
	}

	// The person writes; Meta delivers the message, signed.
	body := fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"%s","phone_number_id":"2"},"contacts":[{"profile":{"name":"E2E"},"wa_id":"%s"}],"messages":[{"from":"%s","id":"wamid.e2e-1","timestamp":"%d","type":"text","text":{"body":"Hello! My request code: #%s"}}]}}]}]}`,
		shopNumber, writerNumber, writerNumber, time.Now().Unix(), code[1])
	if status, ans := d.do(t, "POST", d.public+"/hooks/whatsapp/shop", body, "Content-Type", "application/json", "X-Hub-Signature-256", "sha256=00"); status != 403 {
		t.Errorf("a wrongly signed webhook through nginx: %d %s, want 403", status, ans)
	}
	if status, ans := d.do(t, "POST", d.public+"/hooks/whatsapp/shop", body, "Content-Type", "application/json", "X-Hub-Signature-256", sign(body)); status != 200 {
		t.Fatalf("the signed webhook through nginx: %d %s", status, ans)
	}
	status, verify := d.do(t, "GET", d.public+"/hooks/whatsapp/shop?hub.mode=subscribe&hub.verify_token="+verifyToken+"&hub.challenge=e2e-challenge", "")
	if status != 200 || verify != "e2e-challenge" {
		t.Errorf("Meta's verification handshake through nginx: %d %q", status, verify)
	}
	status, chat := d.do(t, "GET", d.public+"/v1/sites/shop/chats/whatsapp:"+writerNumber, "", "Authorization", "Bearer "+apiKey)
	var rec struct {
		Method string `json:"method"`
		Visit  string `json:"visit"`
	}
	if status != 200 || json.Unmarshal([]byte(chat), &rec) != nil || rec.Method != "id" || rec.Visit == "" {
		t.Fatalf("the chat after the webhook: %d %s", status, chat)
	}
	status, visit := d.do(t, "GET", d.public+"/v1/sites/shop/visits/"+rec.Visit, "", "Authorization", "Bearer "+apiKey)
	if status != 200 || !strings.Contains(visit, `"email"`) {
		t.Errorf("the visit through nginx: %d %s", status, visit)
	}
	// The visit was counted under the visitor's address, from
	// X-Forwarded-For, not under the proxy's: the rate limiter's keys name
	// the client (ipv6_prefix 128 keeps the whole address).
	rl, err := d.rdb.Keys(context.Background(), "mt:rl:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	visitor, proxy := store.RateLimit("visits", "::1/128", 0), store.RateLimit("visits", "127.0.0.1", 0)
	visitor, proxy = visitor[:strings.Index(visitor, "}")+1], proxy[:strings.Index(proxy, "}")+1]
	var byVisitor, byProxy int
	for _, k := range rl {
		byVisitor += strings.Count(k, visitor)
		byProxy += strings.Count(k, proxy)
	}
	if byVisitor == 0 || byProxy != 0 {
		t.Errorf("clients counted: %v; want the visitor %s and never the proxy %s", rl, visitor, proxy)
	}

	// Plain HTTP is sent to HTTPS; /metrics stays inside.
	httpClient := &http.Client{Timeout: 5 * time.Second, CheckRedirect: d.client.CheckRedirect}
	resp, err := httpClient.Get("http://" + net.JoinHostPort("::1", strconv.Itoa(d.httpPort)) + "/s/shop.js")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 301 || !strings.HasPrefix(resp.Header.Get("Location"), "https://") {
		t.Errorf("plain HTTP: %d to %q, want 301 to https://", resp.StatusCode, resp.Header.Get("Location"))
	}
	if status, _ := d.do(t, "GET", d.public+"/metrics", ""); status != 403 {
		t.Errorf("/metrics through nginx: %d, want 403", status)
	}

	// messtrack check passes on this setup: the documented Redis, secrets,
	// public_url answering over HTTPS (the certificate trusted as a real
	// one would be, through SSL_CERT_FILE).
	check := exec.Command(d.bin, "check", "--config", d.config)
	check.Env = append(os.Environ(), "SSL_CERT_FILE="+d.certFile)
	out, err := check.CombinedOutput()
	if err != nil || strings.Contains(string(out), "\nfail ") || !strings.Contains(string(out), "ok   public_url: "+d.public+"/healthz answers") {
		t.Errorf("messtrack check on the documented setup: %v\n%s", err, out)
	}
}
