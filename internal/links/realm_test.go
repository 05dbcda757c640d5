package links

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/pgtest"
)

func TestCheckRealm(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"", "shop.eu", "a", "x_y-z.0", string(make64('a'))} {
		if got, err := CheckRealm(ok); err != nil || got != ok {
			t.Errorf("CheckRealm(%q) = %q, %v; want it accepted", ok, got, err)
		}
	}
	for _, bad := range []string{"Shop", "a b", "shop/eu", "é", string(make64('a')) + "a", "shop,eu"} {
		_, err := CheckRealm(bad)
		if e, ok := apperr.As(err); !ok || e.Code != "realm_invalid" || e.Param != "realm" {
			t.Errorf("CheckRealm(%q) = %v; want realm_invalid", bad, err)
		}
	}
}

func make64(c byte) []byte {
	b := make([]byte, 64)
	for i := range b {
		b[i] = c
	}
	return b
}

func TestFindByRealm(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	for _, m := range []string{"mer_a", "mer_b"} {
		if _, err := db.Pool.Exec(ctx, `INSERT INTO merchants (id, name, email, password_hash) VALUES ($1, 'Shop', $1 || '@shop.test', 'x')`, m); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC()
	tick := func() time.Time { now = now.Add(time.Millisecond); return now }
	signer, _ := NewSigner([]SigningKey{{ID: "k", Secret: make64('k')}})
	base, _ := url.Parse("http://paylink.test")
	svc := NewService(signer, base, tick)
	made := map[string][]string{} // realm → ids, oldest first
	for i, spec := range []struct{ merchant, realm string }{
		{"mer_a", "eu"}, {"mer_a", ""}, {"mer_a", "eu"}, {"mer_a", "us"}, {"mer_b", "eu"}, {"mer_a", "eu"},
	} {
		err := db.WithTx(ctx, func(tx pgx.Tx) error {
			l, err := svc.Create(ctx, tx, spec.merchant, NewLink{Amount: money.Amount{Minor: int64(100 + i), Currency: money.USD}, Realm: spec.realm})
			if err == nil && spec.merchant == "mer_a" {
				made[spec.realm] = append(made[spec.realm], l.ID)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	f, err := ParseFilter("active", "eu")
	if err != nil {
		t.Fatal(err)
	}
	page1, more, err := svc.Find(ctx, db.Pool, "mer_a", f, 2, "")
	if err != nil || len(page1) != 2 || !more || page1[0].ID != made["eu"][2] || page1[1].ID != made["eu"][1] {
		t.Fatalf("page 1 = %v, more %v, %v; want the two newest eu links of mer_a", ids(page1), more, err)
	}
	page2, more, err := svc.Find(ctx, db.Pool, "mer_a", f, 2, page1[1].ID)
	if err != nil || len(page2) != 1 || more || page2[0].ID != made["eu"][0] || page2[0].Realm != "eu" {
		t.Fatalf("page 2 = %v, more %v, %v; want the oldest eu link", ids(page2), more, err)
	}
	if w := svc.ToWire(page2[0]); w.Realm == nil || *w.Realm != "eu" {
		t.Errorf("wire realm = %v, want eu", w.Realm)
	}
	all, _, err := svc.Find(ctx, db.Pool, "mer_a", Filter{}, 10, "")
	if err != nil || len(all) != 5 {
		t.Fatalf("Find without realm = %d links, %v; want all 5 of mer_a", len(all), err)
	}
	if _, err := ParseFilter("", "EU"); err == nil {
		t.Error("ParseFilter accepted realm EU")
	}
	if _, err := ParseFilter("gone", ""); err == nil {
		t.Error("ParseFilter accepted status gone")
	}
}

func ids(ls []*Link) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.ID)
	}
	return out
}
