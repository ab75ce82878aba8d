package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/messtrack/messtrack/collector/qr"
	"github.com/messtrack/messtrack/collector/qrhttp"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
)

// cmdQR writes the QR image of an offline source: by default the collector's
// /q/ link, which registers every scan; with --static the chat link itself
// with the source's long-lived code, for places where the collector must not
// sit between the scan and the chat.
func cmdQR(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("qr", flag.ContinueOnError)
	fs.SetOutput(stderr)
	siteName := fs.String("site", "", "the site (required)")
	source := fs.String("source", "", "the offline source, a key of the site's sources (required)")
	format := fs.String("format", "", "png or svg (default: --out's extension, else png)")
	out := fs.String("out", "-", "the file to write; - is standard output")
	size := fs.Int("size", qr.DefaultSize, fmt.Sprintf("width and height in pixels, %d..%d", qr.MinSize, qr.MaxSize))
	level := fs.String("level", "M", "error correction: L, M, Q or H (H survives the most wear)")
	static := fs.Bool("static", false, "hold the chat link with the source's fixed code instead of the collector's /q/ link")
	cfg, err := loadConfig(fs, args, getenv)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("qr: unexpected argument %q", fs.Arg(0))
	}
	if *siteName == "" || *source == "" {
		return errors.New("qr: --site and --source are required")
	}
	fmtName, err := qrFormat(*format, *out)
	if err != nil {
		return err
	}
	if *size == 0 {
		// flag reads "0" as a value, which would otherwise mean the default.
		return fmt.Errorf("qr: size 0 is outside %d..%d pixels", qr.MinSize, qr.MaxSize)
	}
	opt, err := qr.Options{Format: fmtName, Size: *size, Level: *level}.Normalize()
	if err != nil {
		return fmt.Errorf("qr: %w", err)
	}
	var content string
	if *static {
		content, err = staticQRContent(ctx, cfg, *siteName, *source, stderr)
	} else {
		content, err = qrhttp.SourceURL(cfg, *siteName, *source)
	}
	if err != nil {
		return fmt.Errorf("qr: %w", err)
	}
	img, err := qr.Render(content, opt)
	if err != nil {
		return fmt.Errorf("qr: %w", err)
	}
	if *out == "-" {
		if _, err := stdout.Write(img); err != nil {
			return fmt.Errorf("qr: write: %w", err)
		}
		return nil
	}
	if err := os.WriteFile(*out, img, 0o644); err != nil {
		return fmt.Errorf("qr: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s (%s, %d px, level %s) holding %s\n", *out, opt.Format, opt.Size, opt.Level, content)
	return nil
}

// qrFormat picks the image format from --format and --out's extension and
// refuses a pair that disagree, so flyer.png never holds an SVG.
func qrFormat(format, out string) (string, error) {
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(out), "."))
	if ext != "png" && ext != "svg" {
		ext = ""
	}
	format = strings.ToLower(format)
	switch {
	case format == "" && ext == "":
		return "png", nil
	case format == "":
		return ext, nil
	case ext != "" && ext != format:
		return "", fmt.Errorf("qr: --format %s but --out %s names a .%s file", format, out, ext)
	}
	return format, nil
}

// staticQRContent asks a collector on the configured Redis for the source's
// static chat link. The embedded store is refused: it would forget the
// source's visit when this command ends, and the printed code would lead to
// no visit.
func staticQRContent(ctx context.Context, cfg *config.Config, siteName, source string, stderr io.Writer) (string, error) {
	if strings.TrimSpace(cfg.Redis) == "" {
		return "", errors.New("--static needs the collector's Redis (redis: in the config or REDIS_URL): the embedded store would forget the code when this command ends")
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, err := store.Open(ctx, cfg.Redis, log)
	if err != nil {
		return "", err
	}
	defer db.Close()
	if _, err := store.RefuseNewerFormat(ctx, db.Client); err != nil {
		return "", err
	}
	return qrhttp.StaticSourceLink(ctx, cfg, db.Client, store.SystemClock{}, siteName, source)
}
