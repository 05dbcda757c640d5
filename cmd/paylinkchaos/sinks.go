package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/mail"
	"strings"
	"sync"

	"github.com/paylink/paylink/internal/smtpsink"
)

// receiver is the merchants' webhook endpoint: it checks every delivery's
// Standard Webhooks signature with the secret of the merchant the path
// names (/hook/<merchant index>) and remembers the event ids it got
// correctly signed.
type receiver struct {
	srv     *http.Server
	addr    string
	mu      sync.Mutex
	secrets map[string]string // merchant index → whsec_…
	good    map[string]int    // webhook-id → correctly signed deliveries
	bad     int               // deliveries with a wrong or missing signature
}

func startReceiver() (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{addr: ln.Addr().String(), secrets: map[string]string{}, good: map[string]int{}}
	r.srv = &http.Server{Handler: r}
	go r.srv.Serve(ln)
	return r, nil
}

func (r *receiver) url(merchant string) string { return "http://" + r.addr + "/hook/" + merchant }

func (r *receiver) setSecret(merchant, secret string) {
	r.mu.Lock()
	r.secrets[merchant] = secret
	r.mu.Unlock()
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	merchant := strings.TrimPrefix(req.URL.Path, "/hook/")
	id := req.Header.Get("webhook-id")
	r.mu.Lock()
	defer r.mu.Unlock()
	secret, ok := r.secrets[merchant]
	if !ok || !validSignature(secret, id, req.Header.Get("webhook-timestamp"), body, req.Header.Get("webhook-signature")) {
		r.bad++
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.good[id]++
	w.WriteHeader(http.StatusNoContent)
}

// validSignature is an independent Standard Webhooks check.
func validSignature(secret, id, ts string, body []byte, header string) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || id == "" || ts == "" {
		return false
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, s := range strings.Fields(header) {
		if hmac.Equal([]byte(s), []byte(want)) {
			return true
		}
	}
	return false
}

// received returns how many correctly signed deliveries of event id came.
func (r *receiver) received(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.good[id]
}

func (r *receiver) badSignatures() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bad
}

// mailbox is the SMTP server Paylink sends its e-mails to; it remembers
// their Message-IDs.
type mailbox struct {
	sink *smtpsink.Server
	mu   sync.Mutex
	ids  map[string]int
}

func startMailbox() (*mailbox, error) {
	m := &mailbox{ids: map[string]int{}}
	sink, err := smtpsink.Listen("127.0.0.1:0", func(msg smtpsink.Message) error {
		parsed, err := mail.ReadMessage(bytes.NewReader(msg.Data))
		if err != nil {
			return nil // counted as not received: its id is unknown
		}
		m.mu.Lock()
		local, _, _ := strings.Cut(strings.Trim(parsed.Header.Get("Message-ID"), "<>"), "@")
		m.ids[local]++
		m.mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	m.sink = sink
	return m, nil
}

// got reports whether the e-mail with Paylink id emailID arrived (its
// Message-ID is <emailID@domain>).
func (m *mailbox) got(emailID string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ids[emailID] > 0
}
