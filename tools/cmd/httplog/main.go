// Command httplog is a recording reverse proxy for capturing the HTTP exchanges
// between a Notary client and notary-server, and a renderer that turns the recording
// into a Markdown transcript.
//
//	httplog proxy -listen 127.0.0.1:0 -upstream https://127.0.0.1:4443 -ca ca.crt \
//	        -cert server.crt -key server.key -log exchanges.jsonl -addr-file addr.txt
//	httplog render -title "..." exchanges.jsonl > transcript.md
//
// The proxy serves TLS with -cert/-key (plain HTTP without them) and dials the
// upstream trusting only -ca. It records every exchange in full (one JSON object a
// line). A request to /__httplog/mark?label=... is not forwarded: it records a section
// marker, so scripts can label the steps that produced the following exchanges.
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Exchange is one recorded request/response pair (or a marker).
type Exchange struct {
	Seq      int         `json:"seq"`
	Time     time.Time   `json:"time"`
	Mark     string      `json:"mark,omitempty"`
	Method   string      `json:"method,omitempty"`
	URI      string      `json:"uri,omitempty"`
	ReqHdr   http.Header `json:"req_headers,omitempty"`
	ReqBody  []byte      `json:"req_body,omitempty"`
	Parts    []Part      `json:"parts,omitempty"`
	Status   int         `json:"status,omitempty"`
	RespHdr  http.Header `json:"resp_headers,omitempty"`
	RespBody []byte      `json:"resp_body,omitempty"`
	// RespTE is the response Transfer-Encoding (Go removes it from the header map).
	RespTE []string `json:"resp_transfer_encoding,omitempty"`
	Error  string   `json:"error,omitempty"`
}

// Part is one part of a multipart request body.
type Part struct {
	Header http.Header `json:"headers"`
	// RawFilename is the filename parameter of Content-Disposition as sent (not
	// multipart.Part.FileName, which strips directories since Go 1.17).
	RawFilename string `json:"raw_filename"`
	Length      int    `json:"length"`
	SHA256      string `json:"sha256"`
	Body        []byte `json:"body"`
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "proxy":
		proxy(os.Args[2:])
	case "render":
		render(os.Args[2:])
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: httplog proxy -upstream URL [-listen ADDR] [-ca F] [-cert F -key F] -log F [-addr-file F]\n       httplog render [-title T] LOG.jsonl")
	os.Exit(2)
}

func proxy(args []string) {
	fs := flag.NewFlagSet("proxy", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "listen address")
	upstream := fs.String("upstream", "", "upstream base URL, e.g. https://127.0.0.1:4443")
	caFile := fs.String("ca", "", "CA bundle trusted for the upstream")
	certFile := fs.String("cert", "", "TLS certificate to serve (plain HTTP if empty)")
	keyFile := fs.String("key", "", "TLS key to serve")
	logFile := fs.String("log", "", "JSON-lines output file (appended)")
	addrFile := fs.String("addr-file", "", "write the actual listen address here once listening")
	fs.Parse(args)
	if *upstream == "" || *logFile == "" {
		usage()
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{}, DisableCompression: true}
	if *caFile != "" {
		pemBytes, err := os.ReadFile(*caFile)
		check(err)
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemBytes) {
			check(fmt.Errorf("no certificates in %s", *caFile))
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	out, err := os.OpenFile(*logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	check(err)
	var mu sync.Mutex
	seq := 0
	record := func(x *Exchange) {
		mu.Lock()
		defer mu.Unlock()
		seq++
		x.Seq = seq
		b, err := json.Marshal(x)
		check(err)
		out.Write(append(b, '\n'))
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x := &Exchange{Time: time.Now().UTC()}
		if r.URL.Path == "/__httplog/mark" {
			x.Mark = r.URL.Query().Get("label")
			record(x)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		x.Method, x.URI, x.ReqHdr, x.ReqBody = r.Method, r.RequestURI, r.Header.Clone(), body
		if mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && strings.HasPrefix(mt, "multipart/") {
			x.Parts = parseParts(body, params["boundary"])
			x.ReqBody = nil
		}
		req, err := http.NewRequest(r.Method, strings.TrimRight(*upstream, "/")+r.RequestURI, bytes.NewReader(body))
		if err != nil {
			x.Error = err.Error()
			record(x)
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		req.Header = r.Header.Clone()
		req.ContentLength = int64(len(body))
		resp, err := client.Do(req)
		if err != nil {
			x.Error = err.Error()
			record(x)
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		rb, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			x.Error = err.Error()
		}
		x.Status, x.RespHdr, x.RespBody, x.RespTE = resp.StatusCode, resp.Header.Clone(), rb, resp.TransferEncoding
		record(x)
		for k, vs := range resp.Header {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		w.WriteHeader(resp.StatusCode)
		w.Write(rb)
	})
	ln, err := net.Listen("tcp", *listen)
	check(err)
	if *addrFile != "" {
		check(os.WriteFile(*addrFile, []byte(ln.Addr().String()+"\n"), 0o644))
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second}
	go func() {
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGINT, syscall.SIGTERM)
		<-c
		srv.Close()
	}()
	fmt.Fprintln(os.Stderr, "httplog: listening on", ln.Addr(), "->", *upstream)
	if *certFile != "" {
		err = srv.ServeTLS(ln, *certFile, *keyFile)
	} else {
		err = srv.Serve(ln)
	}
	if err != nil && err != http.ErrServerClosed {
		check(err)
	}
	mu.Lock()
	out.Close()
	mu.Unlock()
}

func parseParts(body []byte, boundary string) []Part {
	var parts []Part
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		b, _ := io.ReadAll(p)
		_, params, _ := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
		sum := sha256.Sum256(b)
		parts = append(parts, Part{Header: http.Header(p.Header), RawFilename: params["filename"], Length: len(b), SHA256: hex.EncodeToString(sum[:]), Body: b})
	}
	return parts
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "httplog:", err)
		os.Exit(1)
	}
}

// ---- render ----

var (
	showReqHeaders  = []string{"Content-Type", "Content-Length", "Accept", "Authorization", "User-Agent"}
	showRespHeaders = []string{"Cache-Control", "Last-Modified", "Content-Type", "Content-Length", "Pragma", "Www-Authenticate", "Etag", "Location", "Docker-Distribution-Api-Version"}
)

func render(args []string) {
	fs := flag.NewFlagSet("render", flag.ExitOnError)
	title := fs.String("title", "HTTP transcript", "document title")
	intro := fs.String("intro", "", "file with Markdown to put under the title")
	fs.Parse(args)
	if fs.NArg() != 1 {
		usage()
	}
	f, err := os.Open(fs.Arg(0))
	check(err)
	defer f.Close()
	var xs []Exchange
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var x Exchange
		check(json.Unmarshal(sc.Bytes(), &x))
		xs = append(xs, x)
	}
	check(sc.Err())
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	fmt.Fprintf(w, "# %s\n\n", *title)
	if *intro != "" {
		b, err := os.ReadFile(*intro)
		check(err)
		w.Write(b)
		fmt.Fprintln(w)
	}
	// Summary of every header name seen on responses, to show nothing is hidden.
	seen := map[string]bool{}
	for _, x := range xs {
		for k := range x.RespHdr {
			seen[k] = true
		}
	}
	var names []string
	for k := range seen {
		names = append(names, k)
	}
	sort.Strings(names)
	fmt.Fprintf(w, "Response header names seen anywhere in this transcript: %s.\n", strings.Join(names, ", "))
	fmt.Fprintf(w, "`Date` is omitted below; `Content-Length` is shown as sent.\n\n")
	n := 0
	for _, x := range xs {
		if x.Mark != "" {
			fmt.Fprintf(w, "## %s\n\n", x.Mark)
			continue
		}
		n++
		fmt.Fprintf(w, "### %d. `%s %s` → %d\n\n", n, x.Method, x.URI, x.Status)
		fmt.Fprintln(w, "```")
		fmt.Fprintf(w, "> %s %s\n", x.Method, x.URI)
		writeHeaders(w, "> ", x.ReqHdr, showReqHeaders)
		for i, p := range x.Parts {
			fmt.Fprintf(w, ">   part %d:", i+1)
			keys := make([]string, 0, len(p.Header))
			for k := range p.Header {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			fmt.Fprintln(w)
			for _, k := range keys {
				for _, v := range p.Header[k] {
					fmt.Fprintf(w, ">     %s: %s\n", k, v)
				}
			}
			fmt.Fprintf(w, ">     [body: %d bytes, sha256 %s] %s\n", p.Length, p.SHA256, snippet(p.Body, 100))
		}
		if len(x.ReqBody) > 0 {
			fmt.Fprintf(w, ">   [body: %d bytes] %s\n", len(x.ReqBody), snippet(x.ReqBody, 300))
		}
		if x.Error != "" {
			fmt.Fprintf(w, "! proxy error: %s\n", x.Error)
		}
		fmt.Fprintf(w, "< %d %s\n", x.Status, http.StatusText(x.Status))
		writeHeaders(w, "< ", x.RespHdr, showRespHeaders)
		for _, te := range x.RespTE {
			fmt.Fprintf(w, "< Transfer-Encoding: %s\n", te)
		}
		if len(x.RespBody) > 0 {
			if fullBody(x) {
				fmt.Fprintf(w, "<\n%s\n", string(x.RespBody))
			} else {
				sum := sha256.Sum256(x.RespBody)
				fmt.Fprintf(w, "<   [body: %d bytes, sha256 %s] %s\n", len(x.RespBody), hex.EncodeToString(sum[:]), snippet(x.RespBody, 100))
			}
		} else {
			fmt.Fprintln(w, "<   [empty body]")
		}
		fmt.Fprint(w, "```\n\n")
	}
}

// fullBody says whether a response body is short or interesting enough to show whole.
func fullBody(x Exchange) bool {
	if x.Status >= 300 || len(x.RespBody) <= 600 {
		return true
	}
	u := x.URI
	return strings.Contains(u, "changefeed") || strings.HasSuffix(u, ".key") || strings.Contains(u, "/_notary_server/")
}

func writeHeaders(w io.Writer, prefix string, h http.Header, names []string) {
	for _, n := range names {
		for _, v := range h.Values(n) {
			if n == "Authorization" {
				v = "<redacted>"
			}
			fmt.Fprintf(w, "%s%s: %s\n", prefix, n, v)
		}
	}
}

func snippet(b []byte, n int) string {
	s := string(b)
	if len(s) > n {
		s = s[:n] + "…"
	}
	return strings.NewReplacer("\n", "\\n", "\r", "\\r").Replace(s)
}
