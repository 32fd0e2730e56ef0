// Command sonde-compat-go-checkpoint drives HashiCorp's go-checkpoint, exactly
// as Debian packages it and without any change, against a self-hosted Sonde
// collector.
//
// go-checkpoint's host name is fixed (checkpoint-api.hashicorp.com), so this
// harness reaches the collector the way a real deployment behind a proxy
// would: it starts its own HTTP CONNECT proxy on 127.0.0.1 that tunnels every
// CONNECT to the collector's address, and points HTTPS_PROXY at it. TLS is
// end to end between the library and the collector; the caller makes the
// collector's certificate trusted through SSL_CERT_FILE.
//
// It calls Check (twice: the second answer must come from the cache file,
// with no connection), Versions and, when CHECKPOINT_ENABLE is set, Report,
// and prints one JSON document with what the library decoded.
//
// Build (Debian): GOPATH=/usr/share/gocode GO111MODULE=off go build -o harness .
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	checkpoint "github.com/hashicorp/go-checkpoint"
)

// output is what the harness prints: the library's own decoded types.
type output struct {
	Check         *checkpoint.CheckResponse    `json:"check"`
	CachedCheck   *checkpoint.CheckResponse    `json:"cached_check"`
	Versions      *checkpoint.VersionsResponse `json:"versions"`
	ReportSent    bool                         `json:"report_sent"`
	Signature     string                       `json:"signature"`
	ConnectHosts  []string                     `json:"connect_hosts"`
	TunnelsAfter1 int                          `json:"tunnels_after_first_check"`
	TunnelsAfter2 int                          `json:"tunnels_after_cached_check"`
}

func main() {
	collector := flag.String("collector", "", "host:port of the Sonde collector (TLS) that every CONNECT is tunnelled to")
	product := flag.String("product", "terraform", "product name sent to /v1/check")
	version := flag.String("version", "", "version the pretend tool runs")
	stateDir := flag.String("state-dir", "", "directory for the signature and cache files")
	flag.Parse()
	if *collector == "" || *version == "" || *stateDir == "" {
		fmt.Fprintln(os.Stderr, "usage: harness -collector HOST:PORT -version V -state-dir DIR [-product P]")
		os.Exit(2)
	}
	if err := run(*collector, *product, *version, *stateDir); err != nil {
		fmt.Fprintln(os.Stderr, "go-checkpoint harness:", err)
		os.Exit(1)
	}
}

func run(collector, product, version, stateDir string) error {
	proxy, err := startProxy(collector)
	if err != nil {
		return err
	}
	defer proxy.Close()

	// net/http reads the proxy settings once, on first use: set them before any
	// request. NO_PROXY must not exempt the fixed host.
	os.Setenv("HTTPS_PROXY", "http://"+proxy.Addr())
	os.Unsetenv("https_proxy")
	os.Unsetenv("NO_PROXY")
	os.Unsetenv("no_proxy")

	out := output{}
	sigFile := stateDir + "/signature"
	params := &checkpoint.CheckParams{
		Product:       product,
		Version:       version,
		SignatureFile: sigFile,
		CacheFile:     stateDir + "/cache",
		// Debian's package only sends with CHECKPOINT_ENABLE set or Force;
		// HashiCorp's tools use Force when the user explicitly asks.
		Force: true,
	}
	out.Check, err = checkpoint.Check(params)
	if err != nil {
		return fmt.Errorf("Check: %w", err)
	}
	out.TunnelsAfter1 = proxy.Tunnels()

	// A second check within the cache window is answered from the cache file.
	out.CachedCheck, err = checkpoint.Check(params)
	if err != nil {
		return fmt.Errorf("cached Check: %w", err)
	}
	out.TunnelsAfter2 = proxy.Tunnels()

	out.Versions, err = checkpoint.Versions(&checkpoint.VersionsParams{
		Service: product,
		Product: product,
		Force:   true,
	})
	if err != nil {
		return fmt.Errorf("Versions: %w", err)
	}

	if os.Getenv("CHECKPOINT_ENABLE") != "" {
		start := time.Now().Add(-2 * time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = checkpoint.Report(ctx, &checkpoint.ReportParams{
			SignatureFile: sigFile,
			StartTime:     start,
			EndTime:       time.Now(),
			Product:       product,
			SchemaVersion: "1",
			Version:       version,
			Payload:       map[string]interface{}{"command": "plan"},
		})
		if err != nil {
			return fmt.Errorf("Report: %w", err)
		}
		out.ReportSent = true
	}

	sig, err := os.ReadFile(sigFile)
	if err != nil {
		return err
	}
	for i, b := range sig {
		if b == '\n' {
			sig = sig[:i]
			break
		}
	}
	out.Signature = string(sig)
	out.ConnectHosts = proxy.Hosts()

	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
