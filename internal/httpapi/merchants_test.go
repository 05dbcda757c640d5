package httpapi

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/wire"
)

func TestSignUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	res := e.do(req{Method: "POST", Path: "/v1/merchants",
		Body: map[string]string{"name": " Acme ", "email": "Ops@Acme.test", "password": "0123456789"}})
	if res.Status != http.StatusCreated {
		t.Fatalf("sign up: %d %s", res.Status, res.Body)
	}
	var out signUpResponse
	res.decode(t, &out)
	if !strings.HasPrefix(out.Merchant.ID, "mer_") || out.Merchant.Name != "Acme" || out.Merchant.Email != "ops@acme.test" {
		t.Errorf("merchant = %+v; want mer_ id, trimmed name, lower-case email", out.Merchant)
	}
	if !strings.HasPrefix(out.APIKey.ID, "key_") || !strings.HasPrefix(out.APIKey.Secret, "sk_test_") {
		t.Errorf("api_key = %+v; want key_ id and sk_test_ secret", out.APIKey)
	}
	if strings.Contains(string(res.Body), "password") {
		t.Errorf("sign-up answer mentions the password: %s", res.Body)
	}
	// The new key works.
	me := e.do(req{Method: "GET", Path: "/v1/merchant", Auth: &creds{out.APIKey.ID, out.APIKey.Secret}})
	var got wire.Merchant
	me.decode(t, &got)
	if me.Status != 200 || got != out.Merchant {
		t.Errorf("GET /v1/merchant = %d %+v; want 200 %+v", me.Status, got, out.Merchant)
	}

	dup := e.do(req{Method: "POST", Path: "/v1/merchants",
		Body: map[string]string{"name": "Other", "email": "OPS@acme.TEST", "password": "0123456789"}})
	wantError(t, dup, http.StatusConflict, "email_taken")
}

func TestSignUpRejectsBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name      string
		body      string
		status    int
		code      string
		wantParam string
	}{
		{"short password", `{"name":"A","email":"a@b.test","password":"123456789"}`, 400, "password_too_short", "password"},
		{"bad email", `{"name":"A","email":"not-an-email","password":"0123456789"}`, 400, "email_invalid", "email"},
		{"display-name email", `{"name":"A","email":"Ann <a@b.test>","password":"0123456789"}`, 400, "email_invalid", "email"},
		{"empty name", `{"name":"  ","email":"a@b.test","password":"0123456789"}`, 400, "name_invalid", "name"},
		{"missing fields", `{}`, 400, "name_invalid", "name"},
		{"unknown field", `{"name":"A","email":"a@b.test","password":"0123456789","plan":"gold"}`, 400, "unknown_parameter", "plan"},
		{"wrong type", `{"name":5,"email":"a@b.test","password":"0123456789"}`, 400, "parameter_invalid", "name"},
		{"malformed", `{"name":"A",`, 400, "invalid_json", ""},
		{"array", `[1,2]`, 400, "invalid_json", ""},
		{"trailing data", `{"name":"A"} {}`, 400, "invalid_json", ""},
		{"too large", `{"name":"` + strings.Repeat("a", 70<<10) + `"}`, 413, "body_too_large", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(req{Method: "POST", Path: "/v1/merchants", Body: tt.body})
			wantError(t, res, tt.status, tt.code)
			var b edge.ErrorBody
			res.decode(t, &b)
			if b.Error.Param != tt.wantParam {
				t.Errorf("param = %q, want %q", b.Error.Param, tt.wantParam)
			}
		})
	}
	var n int
	if err := e.db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM merchants").Scan(&n); err != nil || n != 0 {
		t.Fatalf("merchants after bad sign-ups = %d (%v); want 0", n, err)
	}
}

func TestBodyTooLargeWithoutContentLength(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pr, pw := io.Pipe()
	go func() {
		fmt.Fprintf(pw, `{"name":"%s"}`, strings.Repeat("x", 100<<10))
		pw.Close()
	}()
	hr, _ := http.NewRequest("POST", e.base+"/v1/merchants", pr)
	hr.ContentLength = -1 // chunked: the limit must hold while reading
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status = %d, want 413", res.StatusCode)
	}
}

func TestAuthenticationFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, k := e.signUp("auth@shop.test")
	tests := []struct {
		name   string
		header string
		code   string
	}{
		{"no header", "", "api_key_missing"},
		{"not basic", "Bearer " + k.secret, "api_key_missing"},
		{"garbage basic", "Basic !!!", "api_key_missing"},
		{"unknown key", basic(creds{"key_01m8000000000000000000000a", k.secret}), "api_key_invalid"},
		{"wrong secret", basic(creds{k.id, k.secret + "x"}), "api_key_invalid"},
		{"malformed id", basic(creds{"mer_123", k.secret}), "api_key_invalid"},
		{"secret as username", basic(creds{k.secret, k.id}), "api_key_invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{}
			if tt.header != "" {
				h["Authorization"] = tt.header
			}
			res := e.do(req{Method: "GET", Path: "/v1/merchant", Header: h})
			wantError(t, res, http.StatusUnauthorized, tt.code)
			if res.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
}

func TestRevokeKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, first := e.signUp("keys@shop.test")

	// The only key cannot be revoked.
	res := e.do(req{Method: "DELETE", Path: "/v1/api_keys/" + first.id, Auth: &first})
	wantError(t, res, http.StatusConflict, "last_active_key")

	res = e.do(req{Method: "POST", Path: "/v1/api_keys", Auth: &first})
	if res.Status != http.StatusCreated {
		t.Fatalf("create key: %d %s", res.Status, res.Body)
	}
	var second wire.APIKey
	res.decode(t, &second)
	sc := creds{second.ID, second.Secret}

	res = e.do(req{Method: "DELETE", Path: "/v1/api_keys/" + first.id, Auth: &sc})
	var revoked wire.APIKey
	res.decode(t, &revoked)
	if res.Status != 200 || revoked.RevokedAt == nil || revoked.Secret != "" {
		t.Fatalf("revoke = %d %s; want 200 with revoked_at and no secret", res.Status, res.Body)
	}
	// At once: the very next request with the revoked key fails.
	wantError(t, e.do(req{Method: "GET", Path: "/v1/merchant", Auth: &first}), http.StatusUnauthorized, "api_key_revoked")
	// A wrong secret for a revoked key does not reveal the revocation.
	wantError(t, e.do(req{Method: "GET", Path: "/v1/merchant", Auth: &creds{first.id, first.secret + "x"}}), http.StatusUnauthorized, "api_key_invalid")
	// Now the second is the last active key.
	wantError(t, e.do(req{Method: "DELETE", Path: "/v1/api_keys/" + sc.id, Auth: &sc}), http.StatusConflict, "last_active_key")
	wantError(t, e.do(req{Method: "DELETE", Path: "/v1/api_keys/key_01m8000000000000000000000a", Auth: &sc}), http.StatusNotFound, "api_key_not_found")

	// Another merchant's key is not found, not revoked.
	_, other := e.signUp("other@shop.test")
	wantError(t, e.do(req{Method: "DELETE", Path: "/v1/api_keys/" + sc.id, Auth: &other}), http.StatusNotFound, "api_key_not_found")
}

func TestConcurrentRevocationsKeepOneKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, k := e.signUp("race@shop.test")
	keys := []creds{k}
	for i := 0; i < 4; i++ {
		res := e.do(req{Method: "POST", Path: "/v1/api_keys", Auth: &k})
		var nk wire.APIKey
		res.decode(t, &nk)
		keys = append(keys, creds{nk.ID, nk.Secret})
	}
	// Each key revokes itself, all at once: only one may survive.
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
	)
	for _, key := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := e.do(req{Method: "DELETE", Path: "/v1/api_keys/" + key.id, Auth: &key})
			mu.Lock()
			statuses[res.Status]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if statuses[200] != 4 || statuses[409] != 1 {
		t.Errorf("answers = %v; want four 200 and one 409", statuses)
	}
	var active int
	if err := e.db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM api_keys WHERE revoked_at IS NULL").Scan(&active); err != nil {
		t.Fatal(err)
	}
	if active != 1 {
		t.Fatalf("active keys after concurrent revocation of all = %d, want exactly 1", active)
	}
}

func TestListKeysPaginates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, k := e.signUp("list@shop.test")
	for i := 0; i < 4; i++ {
		e.do(req{Method: "POST", Path: "/v1/api_keys", Auth: &k})
	}
	var all []string
	after := ""
	for page := 0; page < 10; page++ {
		path := "/v1/api_keys?limit=2"
		if after != "" {
			path += "&starting_after=" + after
		}
		res := e.do(req{Method: "GET", Path: path, Auth: &k})
		var body wire.List[wire.APIKey]
		res.decode(t, &body)
		for _, key := range body.Data {
			if key.Secret != "" {
				t.Fatalf("list shows a secret: %s", res.Body)
			}
			all = append(all, key.ID)
		}
		if !body.HasMore {
			break
		}
		after = body.Data[len(body.Data)-1].ID
	}
	if len(all) != 5 {
		t.Fatalf("paged through %d keys, want 5: %v", len(all), all)
	}
	for i := 1; i < len(all); i++ {
		if all[i-1] <= all[i] {
			t.Fatalf("keys not newest first: %v", all)
		}
	}
	if all[len(all)-1] != k.id {
		t.Errorf("oldest key = %s, want the sign-up key %s", all[len(all)-1], k.id)
	}
	for _, q := range []string{"limit=0", "limit=101", "limit=x"} {
		wantError(t, e.do(req{Method: "GET", Path: "/v1/api_keys?" + q, Auth: &k}), 400, "limit_invalid")
	}
	wantError(t, e.do(req{Method: "GET", Path: "/v1/api_keys?starting_after=pay_1", Auth: &k}), 400, "starting_after_invalid")
}

func TestLastUsedAtIsBatched(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, k := e.signUp("usage@shop.test")
	for i := 0; i < 3; i++ {
		e.do(req{Method: "GET", Path: "/v1/merchant", Auth: &k})
	}
	ctx := context.Background()
	var before *string
	if err := e.db.Pool.QueryRow(ctx, "SELECT last_used_at::text FROM api_keys WHERE id = $1", k.id).Scan(&before); err != nil {
		t.Fatal(err)
	}
	if before != nil {
		t.Fatalf("last_used_at written per request (%s); want it batched", *before)
	}
	if err := e.usage.Flush(ctx, e.db.Pool); err != nil {
		t.Fatal(err)
	}
	res := e.do(req{Method: "GET", Path: "/v1/api_keys", Auth: &k})
	var body wire.List[wire.APIKey]
	res.decode(t, &body)
	if len(body.Data) != 1 || body.Data[0].LastUsedAt == nil {
		t.Fatalf("after flush: %s; want last_used_at set", res.Body)
	}
}

func TestNoPlaintextSecretsAtRest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const pw = "hunter2hunter2-very-secret"
	res := e.do(req{Method: "POST", Path: "/v1/merchants", Header: map[string]string{"Idempotency-Key": "signup-1"},
		Body: map[string]string{"name": "Vault", "email": "vault@shop.test", "password": pw}})
	var out signUpResponse
	res.decode(t, &out)
	k := creds{out.APIKey.ID, out.APIKey.Secret}
	res = e.do(req{Method: "POST", Path: "/v1/api_keys", Auth: &k, Header: map[string]string{"Idempotency-Key": "key-1"}})
	var second wire.APIKey
	res.decode(t, &second)

	secrets := []string{pw, k.secret, second.Secret,
		strings.TrimPrefix(k.secret, "sk_test_"), strings.TrimPrefix(second.Secret, "sk_test_")}
	dump := dumpAllTables(t, e)
	for _, s := range secrets {
		if strings.Contains(dump, s) {
			t.Errorf("database holds %q in plaintext", s)
		}
	}
	logs := e.logs.String()
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("logs hold %q", s)
		}
	}
	if !strings.Contains(dump, "$argon2id$") {
		t.Error("no argon2id password hash found; the dump is not reading the tables")
	}
}

// dumpAllTables renders every row of every table in the public schema as
// JSON text, and appends the raw bytes of every bytea column, so a secret
// is found whether it sits in a text or a binary column.
func dumpAllTables(t *testing.T, e *env) string {
	t.Helper()
	ctx := context.Background()
	rows, err := e.db.Pool.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, table := range tables {
		rows, err := e.db.Pool.Query(ctx, fmt.Sprintf(`SELECT row_to_json(t)::text FROM %q t`, table))
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		sb.WriteString(strings.Join(lines, "\n"))
	}
	rows, err = e.db.Pool.Query(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = 'public' AND data_type = 'bytea'`)
	if err != nil {
		t.Fatal(err)
	}
	type col struct{ Table, Column string }
	cols, err := pgx.CollectRows(rows, pgx.RowToStructByPos[col])
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cols {
		rows, err := e.db.Pool.Query(ctx, fmt.Sprintf(`SELECT %q FROM %q WHERE %q IS NOT NULL`, c.Column, c.Table, c.Column))
		if err != nil {
			t.Fatal(err)
		}
		vals, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			sb.Write(v)
		}
	}
	return sb.String()
}
