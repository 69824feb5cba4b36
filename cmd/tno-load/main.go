// Command tno-load signs in to a running TNO many times, as a browser and
// a relying party would (authorization request, login form, code exchange),
// and reports throughput and latency. It talks only to the URL it is given
// (use a loopback address).
//
//	tno-load -issuer http://127.0.0.1:8080 -client load -secret … \
//	    -redirect http://127.0.0.1:9/cb -user jdupont -password … -n 1000 -c 4
//
// With -sso, each concurrent browser signs in once (not counted), then
// every flow is single sign-on: an authorization request answered at once
// with a code by the session, and the code exchange.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

var requestRE = regexp.MustCompile(`name="request" value="([^"]+)"`)

type config struct {
	issuer, client, secret, redirect, user, password string
	n, c                                             int
	timeout                                          time.Duration
	sso                                              bool
}

func main() {
	var cfg config
	flag.StringVar(&cfg.issuer, "issuer", "http://127.0.0.1:8080", "TNO issuer URL (loopback)")
	flag.StringVar(&cfg.client, "client", "", "client_id of a confidential application")
	flag.StringVar(&cfg.secret, "secret", "", "its client secret")
	flag.StringVar(&cfg.redirect, "redirect", "http://127.0.0.1:9/cb", "its registered redirect URI (never contacted)")
	flag.StringVar(&cfg.user, "user", "", "identifier of a person eligible for the application")
	flag.StringVar(&cfg.password, "password", "", "that person's password")
	flag.IntVar(&cfg.n, "n", 1000, "number of sign-ins")
	flag.IntVar(&cfg.c, "c", 4, "concurrent browsers")
	flag.DurationVar(&cfg.timeout, "timeout", 5*time.Minute, "give up after this long")
	flag.BoolVar(&cfg.sso, "sso", false, "measure single sign-on flows of signed-in browsers (authorize, code, token)")
	flag.Parse()
	if cfg.client == "" || cfg.user == "" || cfg.n <= 0 || cfg.c <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "tno-load:", err)
		os.Exit(1)
	}
}

func run(cfg config) error {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	transport := &http.Transport{MaxIdleConnsPerHost: cfg.c * 2}
	jobs := make(chan int)
	var mu sync.Mutex
	var lat []time.Duration
	var errs []error
	var wg sync.WaitGroup
	// With -sso, the browsers sign in one after the other first: the same
	// person signing in from many browsers at the same instant is what
	// TNO's brute-force limiter slows (5 free attempts per account).
	browsers := make([]*http.Client, cfg.c)
	if cfg.sso {
		for i := range browsers {
			browsers[i] = newBrowser(cfg, transport)
			if err := signIn(ctx, cfg, browsers[i]); err != nil {
				return fmt.Errorf("first sign-in: %w", err)
			}
		}
	}
	start := time.Now()
	for w := 0; w < cfg.c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := browsers[w]
			for range jobs {
				t0 := time.Now()
				var err error
				if cfg.sso {
					err = ssoFlow(ctx, cfg, b)
				} else {
					err = signIn(ctx, cfg, newBrowser(cfg, transport))
				}
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					lat = append(lat, time.Since(t0))
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < cfg.n && ctx.Err() == nil; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(float64(len(lat))*p))]
	}
	what := "sign-ins"
	if cfg.sso {
		what = "single sign-on flows"
	}
	fmt.Printf("%s: %d ok, %d failed in %s (%.1f/s, concurrency %d)\n", what, len(lat), len(errs), elapsed.Round(time.Millisecond), float64(len(lat))/elapsed.Seconds(), cfg.c)
	fmt.Printf("latency: p50 %s  p90 %s  p99 %s  max %s\n", pct(0.5).Round(time.Millisecond), pct(0.9).Round(time.Millisecond), pct(0.99).Round(time.Millisecond), pct(1).Round(time.Millisecond))
	if len(errs) > 0 {
		return fmt.Errorf("%d sign-ins failed, first: %w", len(errs), errs[0])
	}
	return nil
}

// newBrowser returns a cookie-keeping client that stops at the relying
// party's callback.
func newBrowser(cfg config, rt http.RoundTripper) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Transport: rt, Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if !strings.HasPrefix(req.URL.String(), cfg.issuer) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
}

// ssoFlow runs one single sign-on flow in a signed-in browser: the
// authorization request is answered with a code at once.
func ssoFlow(ctx context.Context, cfg config, c *http.Client) error {
	q := url.Values{"client_id": {cfg.client}, "redirect_uri": {cfg.redirect}, "response_type": {"code"}, "scope": {"openid profile"}, "state": {"s"}, "nonce": {"n"}}
	_, resp, err := do(ctx, c, http.MethodGet, cfg.issuer+"/authorize?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	return exchange(ctx, cfg, c, resp)
}

// signIn runs one complete sign-in in browser c (a new session).
func signIn(ctx context.Context, cfg config, c *http.Client) error {
	q := url.Values{"client_id": {cfg.client}, "redirect_uri": {cfg.redirect}, "response_type": {"code"}, "scope": {"openid profile"}, "state": {"s"}, "nonce": {"n"}}
	body, _, err := do(ctx, c, http.MethodGet, cfg.issuer+"/authorize?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	m := requestRE.FindStringSubmatch(body)
	if m == nil {
		return errors.New("no login form")
	}
	form := url.Values{"request": {m[1]}, "identifier": {cfg.user}, "password": {cfg.password}}
	_, resp, err := do(ctx, c, http.MethodPost, cfg.issuer+"/login", form)
	if err != nil {
		return err
	}
	return exchange(ctx, cfg, c, resp)
}

// exchange redeems the code of a redirect to the relying party.
func exchange(ctx context.Context, cfg config, c *http.Client, resp *http.Response) error {
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		return fmt.Errorf("authorization: status %d, no code", resp.StatusCode)
	}
	tf := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {cfg.redirect}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, cfg.issuer+"/token", strings.NewReader(tf.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(cfg.client), url.QueryEscape(cfg.secret))
	tr, err := c.Do(req)
	if err != nil {
		return err
	}
	defer tr.Body.Close()
	var tok struct {
		IDToken string `json:"id_token"`
	}
	if err := json.NewDecoder(tr.Body).Decode(&tok); err != nil || tr.StatusCode != http.StatusOK || tok.IDToken == "" {
		return fmt.Errorf("token: status %d", tr.StatusCode)
	}
	return nil
}

func do(ctx context.Context, c *http.Client, method, u string, form url.Values) (string, *http.Response, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return "", nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", strings.TrimSuffix(u[:strings.Index(u[8:], "/")+8], "/"))
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), resp, err
}
