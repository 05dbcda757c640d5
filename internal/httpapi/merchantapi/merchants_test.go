package merchantapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/wire"
)

func TestSignUp(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	res := e.Do(apitest.Req{Method: "POST", Path: "/v1/merchants",
		Body: map[string]string{"name": " Acme ", "email": "Ops@Acme.test", "password": "0123456789"}})
	if res.Status != http.StatusCreated {
		t.Fatalf("sign up: %d %s", res.Status, res.Body)
	}
	var out signUpAnswer
	res.Decode(t, &out)
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
	me := e.Do(apitest.Req{Method: "GET", Path: "/v1/merchant", Auth: &apitest.Creds{ID: out.APIKey.ID, Secret: out.APIKey.Secret}})
	var got wire.Merchant
	me.Decode(t, &got)
	if me.Status != 200 || !reflect.DeepEqual(got, out.Merchant) {
		t.Errorf("GET /v1/merchant = %d %+v; want 200 %+v", me.Status, got, out.Merchant)
	}

	dup := e.Do(apitest.Req{Method: "POST", Path: "/v1/merchants",
		Body: map[string]string{"name": "Other", "email": "OPS@acme.TEST", "password": "0123456789"}})
	apitest.WantError(t, dup, http.StatusConflict, "email_taken")
}

func TestSignUpRejectsBadInput(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
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
			res := e.Do(apitest.Req{Method: "POST", Path: "/v1/merchants", Body: tt.body})
			apitest.WantError(t, res, tt.status, tt.code)
			var b edge.ErrorBody
			res.Decode(t, &b)
			if b.Error.Param != tt.wantParam {
				t.Errorf("param = %q, want %q", b.Error.Param, tt.wantParam)
			}
		})
	}
	var n int
	if err := e.DB.Pool.QueryRow(context.Background(), "SELECT count(*) FROM merchants").Scan(&n); err != nil || n != 0 {
		t.Fatalf("merchants after bad sign-ups = %d (%v); want 0", n, err)
	}
}

func TestBodyTooLargeWithoutContentLength(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	pr, pw := io.Pipe()
	go func() {
		fmt.Fprintf(pw, `{"name":"%s"}`, strings.Repeat("x", 100<<10))
		pw.Close()
	}()
	hr, _ := http.NewRequest("POST", e.Base+"/v1/merchants", pr)
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
	e := apitest.New(t)
	_, k := e.SignUp("auth@shop.test")
	tests := []struct {
		name   string
		header string
		code   string
	}{
		{"no header", "", "api_key_missing"},
		{"not basic", "Bearer " + k.Secret, "api_key_missing"},
		{"garbage basic", "Basic !!!", "api_key_missing"},
		{"unknown key", apitest.Basic(apitest.Creds{ID: "key_01m8000000000000000000000a", Secret: k.Secret}), "api_key_invalid"},
		{"wrong secret", apitest.Basic(apitest.Creds{ID: k.ID, Secret: k.Secret + "x"}), "api_key_invalid"},
		{"malformed id", apitest.Basic(apitest.Creds{ID: "mer_123", Secret: k.Secret}), "api_key_invalid"},
		{"secret as username", apitest.Basic(apitest.Creds{ID: k.Secret, Secret: k.ID}), "api_key_invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{}
			if tt.header != "" {
				h["Authorization"] = tt.header
			}
			res := e.Do(apitest.Req{Method: "GET", Path: "/v1/merchant", Header: h})
			apitest.WantError(t, res, http.StatusUnauthorized, tt.code)
			if res.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
}

func TestRevokeKey(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, first := e.SignUp("keys@shop.test")

	// The only key cannot be revoked.
	res := e.Do(apitest.Req{Method: "DELETE", Path: "/v1/api_keys/" + first.ID, Auth: &first})
	apitest.WantError(t, res, http.StatusConflict, "last_active_key")

	res = e.Do(apitest.Req{Method: "POST", Path: "/v1/api_keys", Auth: &first})
	if res.Status != http.StatusCreated {
		t.Fatalf("create key: %d %s", res.Status, res.Body)
	}
	var second wire.APIKey
	res.Decode(t, &second)
	sc := apitest.Creds{ID: second.ID, Secret: second.Secret}

	res = e.Do(apitest.Req{Method: "DELETE", Path: "/v1/api_keys/" + first.ID, Auth: &sc})
	var revoked wire.APIKey
	res.Decode(t, &revoked)
	if res.Status != 200 || revoked.RevokedAt == nil || revoked.Secret != "" {
		t.Fatalf("revoke = %d %s; want 200 with revoked_at and no secret", res.Status, res.Body)
	}
	// At once: the very next request with the revoked key fails.
	apitest.WantError(t, e.Do(apitest.Req{Method: "GET", Path: "/v1/merchant", Auth: &first}), http.StatusUnauthorized, "api_key_revoked")
	// A wrong secret for a revoked key does not reveal the revocation.
	apitest.WantError(t, e.Do(apitest.Req{Method: "GET", Path: "/v1/merchant", Auth: &apitest.Creds{ID: first.ID, Secret: first.Secret + "x"}}), http.StatusUnauthorized, "api_key_invalid")
	// Now the second is the last active key.
	apitest.WantError(t, e.Do(apitest.Req{Method: "DELETE", Path: "/v1/api_keys/" + sc.ID, Auth: &sc}), http.StatusConflict, "last_active_key")
	apitest.WantError(t, e.Do(apitest.Req{Method: "DELETE", Path: "/v1/api_keys/key_01m8000000000000000000000a", Auth: &sc}), http.StatusNotFound, "api_key_not_found")

	// Another merchant's key is not found, not revoked.
	_, other := e.SignUp("other@shop.test")
	apitest.WantError(t, e.Do(apitest.Req{Method: "DELETE", Path: "/v1/api_keys/" + sc.ID, Auth: &other}), http.StatusNotFound, "api_key_not_found")
}

func TestListKeysPaginates(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, k := e.SignUp("list@shop.test")
	for i := 0; i < 4; i++ {
		e.Do(apitest.Req{Method: "POST", Path: "/v1/api_keys", Auth: &k})
	}
	var all []string
	after := ""
	for page := 0; page < 10; page++ {
		path := "/v1/api_keys?limit=2"
		if after != "" {
			path += "&starting_after=" + after
		}
		res := e.Do(apitest.Req{Method: "GET", Path: path, Auth: &k})
		var body wire.List[wire.APIKey]
		res.Decode(t, &body)
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
	if all[len(all)-1] != k.ID {
		t.Errorf("oldest key = %s, want the sign-up key %s", all[len(all)-1], k.ID)
	}
	for _, q := range []string{"limit=0", "limit=101", "limit=x"} {
		apitest.WantError(t, e.Do(apitest.Req{Method: "GET", Path: "/v1/api_keys?" + q, Auth: &k}), 400, "limit_invalid")
	}
	apitest.WantError(t, e.Do(apitest.Req{Method: "GET", Path: "/v1/api_keys?starting_after=pay_1", Auth: &k}), 400, "starting_after_invalid")
}

func TestLastUsedAtIsBatched(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, k := e.SignUp("usage@shop.test")
	for i := 0; i < 3; i++ {
		e.Do(apitest.Req{Method: "GET", Path: "/v1/merchant", Auth: &k})
	}
	ctx := context.Background()
	var before *string
	if err := e.DB.Pool.QueryRow(ctx, "SELECT last_used_at::text FROM api_keys WHERE id = $1", k.ID).Scan(&before); err != nil {
		t.Fatal(err)
	}
	if before != nil {
		t.Fatalf("last_used_at written per request (%s); want it batched", *before)
	}
	if err := e.Usage.Flush(ctx, e.DB.Pool); err != nil {
		t.Fatal(err)
	}
	res := e.Do(apitest.Req{Method: "GET", Path: "/v1/api_keys", Auth: &k})
	var body wire.List[wire.APIKey]
	res.Decode(t, &body)
	if len(body.Data) != 1 || body.Data[0].LastUsedAt == nil {
		t.Fatalf("after flush: %s; want last_used_at set", res.Body)
	}
}

func TestNoPlaintextSecretsAtRest(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	const pw = "hunter2hunter2-very-secret"
	res := e.Do(apitest.Req{Method: "POST", Path: "/v1/merchants", Header: map[string]string{"Idempotency-Key": "signup-1"},
		Body: map[string]string{"name": "Vault", "email": "vault@shop.test", "password": pw}})
	var out signUpAnswer
	res.Decode(t, &out)
	k := apitest.Creds{ID: out.APIKey.ID, Secret: out.APIKey.Secret}
	res = e.Do(apitest.Req{Method: "POST", Path: "/v1/api_keys", Auth: &k, Header: map[string]string{"Idempotency-Key": "key-1"}})
	var second wire.APIKey
	res.Decode(t, &second)

	secrets := []string{pw, k.Secret, second.Secret,
		strings.TrimPrefix(k.Secret, "sk_test_"), strings.TrimPrefix(second.Secret, "sk_test_")}
	dump := dumpAllTables(t, e)
	for _, s := range secrets {
		if strings.Contains(dump, s) {
			t.Errorf("database holds %q in plaintext", s)
		}
	}
	logs := e.Logs.String()
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
func dumpAllTables(t *testing.T, e *apitest.Env) string {
	t.Helper()
	ctx := context.Background()
	rows, err := e.DB.Pool.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, table := range tables {
		rows, err := e.DB.Pool.Query(ctx, fmt.Sprintf(`SELECT row_to_json(t)::text FROM %q t`, table))
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		sb.WriteString(strings.Join(lines, "\n"))
	}
	rows, err = e.DB.Pool.Query(ctx, `SELECT table_name, column_name FROM information_schema.columns
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
		rows, err := e.DB.Pool.Query(ctx, fmt.Sprintf(`SELECT %q FROM %q WHERE %q IS NOT NULL`, c.Column, c.Table, c.Column))
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

// signUpAnswer is the answer of POST /v1/merchants.
type signUpAnswer struct {
	Merchant wire.Merchant `json:"merchant"`
	APIKey   wire.APIKey   `json:"api_key"`
}
