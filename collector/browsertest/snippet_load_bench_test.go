package browsertest

// The snippet's cost to the page it runs on: a real headless Chromium loads
// pages of three shapes, each with and without the snippet in the same run,
// and the page itself adds up its long tasks (the Long Tasks API: tasks of
// 50 ms or more, the ones a visitor feels). The snippet's share is the
// difference.

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// benchLinks is the number of chat links on the big pages.
const benchLinks = 5000

// longTaskHead is the top of every benchmark page: it sums the durations of
// long tasks that start after window.from (0 unless a page sets it), and
// loads the snippet when the page's URL asks for it.
const longTaskHead = `<!doctype html><html><head><meta charset="utf-8"><title>bench</title>
<script>
window.from = 0; window.longTasks = 0;
new PerformanceObserver((list) => list.getEntries().forEach((e) => { if (e.startTime >= from) longTasks += e.duration; }))
  .observe({type: "longtask", buffered: true});
</script>
%s</head><body><ul>
`

// benchLink is the nth chat link of a page.
func benchLink(n int) string {
	return fmt.Sprintf("<li><a href=\"https://wa.me/15551234567?text=Item%%20%d&amp;phone=+15551234567\">item %d</a></li>\n", n, n)
}

// benchPages serves the three page shapes; ?s=1 includes the snippet from
// the collector at collectorURL, ?s=2 its link_extras build.
func benchPages(collectorURL string) http.Handler {
	head := func(r *http.Request) string {
		tag := ""
		switch r.URL.Query().Get("s") {
		case "1":
			tag = `<script async src="` + collectorURL + `/s/demo.js"></script>`
		case "2":
			tag = `<script async src="` + collectorURL + `/s/extras.js"></script>`
		}
		return fmt.Sprintf(longTaskHead, tag)
	}
	mux := http.NewServeMux()
	// 5,000 links in one document.
	mux.HandleFunc("/static", func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		b.WriteString(head(r))
		for i := range benchLinks {
			b.WriteString(benchLink(i))
		}
		b.WriteString("</ul><script>window.done = true</script></body></html>")
		fmt.Fprint(w, b.String())
	})
	// 1,000 links arriving in 20 chunks while the document is parsed.
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, head(r))
		flusher, _ := w.(http.Flusher)
		for chunk := range 20 {
			var b strings.Builder
			for i := range 50 {
				b.WriteString(benchLink(chunk*50 + i))
			}
			fmt.Fprint(w, b.String())
			if flusher != nil {
				flusher.Flush()
			}
			time.Sleep(40 * time.Millisecond)
		}
		fmt.Fprint(w, "</ul><script>window.done = true</script></body></html>")
	})
	// 50 list items added, one a task, to a page of 5,000 links; only the
	// long tasks from the first insertion on count.
	mux.HandleFunc("/insert", func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		b.WriteString(head(r))
		for i := range benchLinks {
			b.WriteString(benchLink(i))
		}
		b.WriteString(`</ul><script>
addEventListener("load", () => setTimeout(() => {
  from = performance.now();
  const list = document.querySelector("ul");
  let n = 0;
  const add = () => {
    const li = document.createElement("li");
    li.innerHTML = '<a href="https://wa.me/15551234567?text=New%20' + n + '">new ' + n + '</a>';
    list.appendChild(li);
    if (++n < 50) setTimeout(add, 10); else window.done = true;
  };
  add();
}, 500));
</script></body></html>`)
		fmt.Fprint(w, b.String())
	})
	return mux
}

// BenchmarkSnippetLongTasks loads each page shape without the snippet, with
// it and with its link_extras build, as a returning visitor (the visit is
// known while the page is still being parsed, the hardest case), and
// reports the long-task time of each and what each build adds.
func BenchmarkSnippetLongTasks(b *testing.B) {
	pageLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	pagesURL := "http://" + pageLn.Addr().String()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	w := newTestWorld(b, fmt.Sprintf(browserSiteYAML, base, b.TempDir(), pagesURL))
	w.clock.Set(time.Now())
	w.serveOn(b, ln)
	pageSrv := &http.Server{Handler: benchPages(base), ReadHeaderTimeout: 5 * time.Second}
	go pageSrv.Serve(pageLn) //nolint:errcheck // ends with Close below
	b.Cleanup(func() { pageSrv.Close() })
	browser := newBrowser(b, newChatRecorder(b))

	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	defer cancel()
	// The first load registers the visit; every measured load, of either
	// build, continues it (to the script, one page origin is one site).
	if err := chromedp.Do(ctx, chromedp.Navigate(pagesURL+"/static?s=1")); err != nil {
		b.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`!!localStorage.messtrack`, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		b.Fatalf("no visit registered: %v", err)
	}

	// measure loads the page and returns its long-task milliseconds once
	// the page is done and, with the snippet, every link carries the code.
	measure := func(page, build string) float64 {
		b.Helper()
		url := pagesURL + page + "?s=" + build
		snippet := build != "0"
		ready := `window.done && performance.now() > 300`
		if snippet {
			// The last link is rewritten last. The check stays cheap, as
			// the page's own long tasks are what is measured.
			ready = `window.done && document.links[document.links.length - 1].href.includes("%0A")`
		}
		if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
			b.Fatal(err)
		}
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](ready, chromedp.WithPollingTimeout(60*time.Second))); err != nil {
			b.Fatalf("%s: page never got ready: %v", url, err)
		}
		// Long tasks are reported a little after they end.
		time.Sleep(200 * time.Millisecond)
		ms, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`longTasks`))
		if err != nil {
			b.Fatal(err)
		}
		if snippet {
			all, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`[...document.links].every((a) => a.href.includes("%0A"))`))
			if err != nil || !all {
				b.Fatalf("%s: not every link carries the code (%v)", url, err)
			}
		}
		return ms
	}

	for _, page := range []string{"/static", "/stream", "/insert"} {
		b.Run(strings.TrimPrefix(page, "/"), func(b *testing.B) {
			var without, with, extras float64
			n := 0
			for b.Loop() {
				without += measure(page, "0")
				with += measure(page, "1")
				extras += measure(page, "2")
				n++
			}
			b.ReportMetric(without/float64(n), "baseline-longtask-ms")
			b.ReportMetric(with/float64(n), "snippet-longtask-ms")
			b.ReportMetric((with-without)/float64(n), "added-ms")
			b.ReportMetric(extras/float64(n), "extras-longtask-ms")
			b.ReportMetric((extras-without)/float64(n), "extras-added-ms")
		})
	}
}
